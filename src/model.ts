/**
 * The one poller behind the sidebar and the status bar item: the workspaces, the chosen one, and its services.
 *
 * It asks the server at the "refreshInterval" setting, backing off while the server fails, and only while one of
 * its views is visible (the sidebar, or the status bar item when the status bar is shown) and the browser tab is.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { api, IService } from './api';
import { DEFAULT_REFRESH_SECONDS, pollFrequency } from './format';

export class DeploymentsModel implements IDisposable {
  constructor() {
    this.poll = new Poll({
      auto: false, // started once the settings are read, so that the first answer is the default workspace's
      factory: () => this.fetch(),
      frequency: pollFrequency(DEFAULT_REFRESH_SECONDS),
      standby: () => !this.views.some(view => view()) || 'when-hidden',
      name: 'aci_widgets:deployments'
    });
  }

  /** Every workspace under the server's aci_widgets home. */
  workspaces: string[] = [];
  /** The workspace shown (empty when there is none). */
  workspace = '';
  /** Its services, or null until they are known. */
  services: IService[] | null = null;
  /** Why the last refresh failed (MissingServerExtension when the server extension does not answer). */
  error: Error | null = null;

  /** Emitted after every refresh and every change of workspace. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this.poll.isDisposed;
  }

  /** A view that wants data while ``isVisible()``: the poll stands by while no view is visible. */
  watch(isVisible: () => boolean): void {
    this.views.push(isVisible);
  }

  /** Start polling (once the settings are applied). */
  start(): void {
    void this.poll.start();
  }

  /** The "refreshInterval" setting, in seconds. */
  set refreshSeconds(seconds: unknown) {
    this.poll.frequency = pollFrequency(seconds);
  }

  /**
   * The "defaultWorkspace" setting: shown at start (the first workspace when empty or missing); changed live, the
   * views switch to it.
   */
  set defaultWorkspace(name: string) {
    const changed = name !== this._defaultWorkspace;
    this._defaultWorkspace = name;
    if (changed && name) {
      this.select(name);
    }
  }

  get defaultWorkspace(): string {
    return this._defaultWorkspace;
  }

  /** Show another workspace (the sidebar's picker). */
  select(workspace: string): void {
    if (workspace === this.workspace) {
      return;
    }
    this.workspace = workspace;
    this.services = null;
    this._changed.emit();
    void this.refresh();
  }

  /** Ask the server now (a view was shown, a service was deleted). */
  refresh(): Promise<void> {
    return this.poll.refresh();
  }

  dispose(): void {
    this.poll.dispose();
    Signal.clearData(this);
  }

  private async fetch(): Promise<void> {
    try {
      const { workspaces } = await api.workspaces();
      this.workspaces = workspaces;
      if (!workspaces.includes(this.workspace)) {
        const wanted = this._defaultWorkspace;
        this.workspace = workspaces.includes(wanted) ? wanted : workspaces[0] || '';
        this.services = null;
      }
      const asked = this.workspace;
      const services = asked ? (await api.services(asked)).services : [];
      if (asked !== this.workspace) {
        return; // another workspace was picked meanwhile: its own refresh answers
      }
      this.services = services;
      this.error = null;
    } catch (error) {
      this.error = error as Error;
      throw error; // the poll backs off until the server answers
    } finally {
      this._changed.emit();
    }
  }

  private _defaultWorkspace = '';
  private readonly views: (() => boolean)[] = [];
  private readonly poll: Poll;
  private readonly _changed = new Signal<this, void>(this);
}
