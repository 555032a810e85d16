/**
 * The Deployments sidebar: the services of one workspace, their state, and what can be done with each.
 *
 * Its data come from the DeploymentsModel it shares with the status bar item (one poller, src/model.ts); shown, it
 * asks for fresh data at once. Rows are updated in place, so that a Test box being typed in survives every refresh.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { api, IService, MissingServerExtension } from './api';
import { age, badgeClass, progressText, usageText } from './format';
import { DeploymentsModel } from './model';

export interface IActions {
  openLogs(workspace: string, name: string): void;
  openSwagger(workspace: string, name: string): void;
  insertCard(workspace: string, name: string): boolean;
}

export class DeploymentsPanel extends Widget {
  constructor(
    private readonly model: DeploymentsModel,
    private readonly actions: IActions
  ) {
    super();
    this.id = 'aci-widgets-deployments';
    this.title.caption = 'Deployments';
    this.addClass('aci-Deployments');
    const header = el('div', 'aci-Deployments-header');
    header.append(el('h2', 'aci-Deployments-title', 'Deployments'), this.picker);
    this.node.append(header, this.notice, this.list);
    this.picker.addEventListener('change', () => model.select(this.picker.value));
    model.watch(() => this.isVisible);
    model.changed.connect(this.render, this);
  }

  dispose(): void {
    this.model.changed.disconnect(this.render, this);
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.model.refresh();
  }

  private render(model: DeploymentsModel): void {
    this.showWorkspaces(model.workspaces, model.workspace);
    if (model.workspace !== this.shown) {
      this.rows.forEach(row => row.node.remove());
      this.rows.clear();
      this.shown = model.workspace;
    }
    const error = model.error;
    if (error instanceof MissingServerExtension) {
      this.say(
        'The aci_widgets server extension does not answer: it is not enabled (run "jupyter server ' +
          'extension enable aci_widgets") or it failed to load (see the JupyterLab log). Then restart JupyterLab.'
      );
    } else if (error) {
      this.say(`Cannot list services: ${error.message}`);
    } else if (!model.workspace) {
      this.say('No workspace yet: Workspace.create("name", exist_ok=True) in a notebook makes one.');
    } else if (model.services) {
      this.showServices(model.services);
    }
  }

  private showWorkspaces(names: string[], workspace: string): void {
    const current = [...this.picker.options].map(o => o.value).join('\n');
    if (current !== names.join('\n')) {
      this.picker.replaceChildren(...names.map(n => new Option(n, n)));
    }
    this.picker.value = workspace;
    this.picker.disabled = names.length === 0;
  }

  private showServices(services: IService[]): void {
    const seen = new Set(services.map(s => s.name));
    for (const [name, row] of this.rows) {
      if (!seen.has(name)) {
        row.node.remove();
        this.rows.delete(name);
      }
    }
    services.forEach((service, index) => {
      let row = this.rows.get(service.name);
      if (!row) {
        row = new ServiceRow(this.model.workspace, service.name, this.actions, () => this.model.refresh());
        this.rows.set(service.name, row);
      }
      if (this.list.children[index] !== row.node) {
        this.list.insertBefore(row.node, this.list.children[index] || null);
      }
      row.update(service);
    });
    this.say(
      services.length
        ? ''
        : `Workspace "${this.model.workspace}" has no service. Deploy one from a notebook ` +
            '(Webservice.deploy_from_model, %deploy_aci or Model.deploy) and it shows here.'
    );
  }

  private say(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  private shown = '';
  private readonly picker = el('select', 'aci-Deployments-picker') as HTMLSelectElement;
  private readonly notice = el('div', 'aci-Deployments-notice');
  private readonly list = el('div', 'aci-Deployments-list');
  private readonly rows = new Map<string, ServiceRow>();
}

class ServiceRow {
  constructor(
    private readonly workspace: string,
    private readonly name: string,
    private readonly actions: IActions,
    private readonly changed: () => Promise<void>
  ) {
    this.node.dataset.service = name;
    const head = el('div', 'aci-Service-head');
    head.append(el('span', 'aci-Service-name', name), this.badge);
    const uriLine = this.uriLine;
    uriLine.append(
      this.uri,
      button('Copy', 'Copy the scoring URI', () => this.copy(this.service?.scoringUri)),
      button('curl', 'Copy a curl command that calls the service', () => this.copy(this.service?.curl))
    );
    const buttons = el('div', 'aci-Service-actions');
    buttons.append(
      button('Logs', 'Follow the service log', () => this.actions.openLogs(workspace, name)),
      button('Test', 'Send a request to the service', () => this.toggleTest()),
      button('Swagger', 'Show the service swagger.json', () => this.actions.openSwagger(workspace, name)),
      button('Insert card', 'Add a cell showing this service to the current notebook', () => this.insert()),
      button('Delete', 'Stop the service and remove it', () => this.remove(), 'aci-danger')
    );
    this.testBox.hidden = true;
    const send = button('Send', 'Send this body to the service', () => this.send());
    this.testBox.append(this.body, send, this.answer);
    this.node.append(head, this.details, this.usage, this.progress, this.error, uriLine, buttons, this.testBox);
  }

  readonly node = el('div', 'aci-Service');

  update(service: IService): void {
    this.service = service;
    this.badge.textContent = service.state;
    this.badge.className = badgeClass(service.state);
    this.details.textContent = `${service.target || '-'} · ${service.computeType} · ${age(service.created)}`;
    const usage = usageText(service.usage);
    this.usage.textContent = usage;
    this.usage.hidden = !usage;
    this.usage.title = service.usage?.measured
      ? 'CPU (100% is one core busy) and memory of the service now'
      : 'The size the deployment requested: this target\'s use cannot be measured from here';
    this.uri.textContent = service.scoringUri || '';
    this.uriLine.hidden = !service.scoringUri;
    const progress = service.state === 'Transitioning' ? progressText(service.progress) : '';
    this.progress.textContent = progress;
    this.progress.hidden = !progress;
    this.error.textContent = service.error;
    this.error.hidden = !service.error;
  }

  private copy(text: string | null | undefined): void {
    if (text) {
      Clipboard.copyToSystem(text);
    }
  }

  private async toggleTest(): Promise<void> {
    this.testBox.hidden = !this.testBox.hidden;
    if (!this.testBox.hidden && !this.body.value) {
      const body = await example(this.workspace, this.name);
      if (!this.body.value) {
        this.body.value = body; // unless the user typed one meanwhile
      }
    }
  }

  private async send(): Promise<void> {
    this.answer.textContent = 'Sending…';
    try {
      const result = await api.test(this.workspace, this.name, this.body.value);
      const ms = `${(result.seconds * 1000).toFixed(0)} ms`;
      this.answer.textContent = `${ms}\n${result.ok ? shown(result.answer) : result.error}`;
      this.answer.classList.toggle('aci-failed', !result.ok);
    } catch (error) {
      this.answer.textContent = (error as Error).message;
      this.answer.classList.add('aci-failed');
    }
  }

  private insert(): void {
    if (!this.actions.insertCard(this.workspace, this.name)) {
      void showDialog({
        title: 'No notebook open',
        body: 'Open a notebook (or click into one) to insert the card of this service.',
        buttons: [Dialog.okButton()]
      });
    }
  }

  private async remove(): Promise<void> {
    const choice = await showDialog({
      title: `Delete service ${this.name}?`,
      body:
        `This stops ${this.name} in workspace "${this.workspace}" and removes it. ` +
        'Its image and models stay registered.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!choice.button.accept) {
      return;
    }
    this.badge.textContent = 'Deleting';
    try {
      await api.remove(this.workspace, this.name);
    } catch (error) {
      void showDialog({
        title: `Could not delete ${this.name}`,
        body: (error as Error).message,
        buttons: [Dialog.okButton()]
      });
    }
    await this.changed();
  }

  private service: IService | null = null;
  private readonly badge = el('span', 'aci-Service-badge');
  private readonly details = el('div', 'aci-Service-details');
  private readonly usage = el('div', 'aci-Service-usage');
  private readonly progress = el('div', 'aci-Service-progress');
  private readonly error = el('div', 'aci-Service-error');
  private readonly uri = el('code', 'aci-Service-uriText');
  private readonly uriLine = el('div', 'aci-Service-uri');
  private readonly testBox = el('div', 'aci-Service-test');
  private readonly body = el('textarea', 'aci-Service-body') as HTMLTextAreaElement;
  private readonly answer = el('pre', 'aci-Service-answer');
}

/** An answer on one line when it is short, indented when it is not. */
function shown(answer: unknown): string {
  const compact = JSON.stringify(answer) ?? String(answer);
  return compact.length <= 200 ? compact : JSON.stringify(answer, null, 1);
}

/** The swagger's example input if it has one, else a body to edit. */
async function example(workspace: string, name: string): Promise<string> {
  try {
    const swagger = await api.swagger(workspace, name);
    const input = swagger?.definitions?.ServiceInput?.example;
    if (input !== undefined) {
      return JSON.stringify(input);
    }
  } catch {
    // no swagger (not Healthy yet): the user types the body
  }
  return '{"data": [[0.0]]}';
}

function el(tag: string, className: string, text = ''): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function button(label: string, title: string, onClick: () => void, extra = ''): HTMLButtonElement {
  const node = el('button', `jp-Button aci-Button ${extra}`.trim(), label) as HTMLButtonElement;
  node.title = title;
  node.addEventListener('click', onClick);
  return node;
}
