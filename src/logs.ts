/**
 * A service's log in a main-area panel, following its tail (ANSI colours rendered) while the panel is visible.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { ansiToHtml } from './ansi';
import { api } from './api';

class LogView extends Widget {
  constructor(
    private readonly workspace: string,
    private readonly name: string
  ) {
    super();
    this.addClass('aci-Log');
    this.node.append(this.pre);
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: 1000, backoff: true, max: 30000 },
      standby: () => !this.isVisible || 'when-hidden',
      name: `aci_widgets:logs:${name}`
    });
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.poll.refresh();
  }

  private async refresh(): Promise<void> {
    let text: string;
    try {
      text = (await api.logs(this.workspace, this.name, 2000)).logs;
    } catch (error) {
      this.pre.textContent = `${this.text}\n[${(error as Error).message}]`;
      throw error;
    }
    if (text === this.text) {
      return;
    }
    const atBottom = this.node.scrollTop + this.node.clientHeight >= this.node.scrollHeight - 4;
    this.text = text;
    this.pre.innerHTML = ansiToHtml(text || '(the log is empty)');
    if (atBottom) {
      this.node.scrollTop = this.node.scrollHeight; // follow the tail unless the user scrolled up
    }
  }

  private text = '';
  private readonly pre = document.createElement('pre');
  private readonly poll: Poll;
}

export function logPanel(workspace: string, name: string): MainAreaWidget {
  const panel = new MainAreaWidget({ content: new LogView(workspace, name) });
  panel.id = `aci-widgets-log-${workspace}-${name}`;
  panel.title.label = `Log: ${name}`;
  panel.title.closable = true;
  return panel;
}

export function swaggerPanel(workspace: string, name: string): MainAreaWidget {
  const content = new Widget();
  content.addClass('aci-Swagger');
  const pre = document.createElement('pre');
  pre.textContent = 'Loading swagger.json…';
  content.node.append(pre);
  api.swagger(workspace, name).then(
    swagger => (pre.textContent = JSON.stringify(swagger, null, 2)),
    error => (pre.textContent = `No swagger.json: ${(error as Error).message}`)
  );
  const panel = new MainAreaWidget({ content });
  panel.id = `aci-widgets-swagger-${workspace}-${name}`;
  panel.title.label = `Swagger: ${name}`;
  panel.title.closable = true;
  return panel;
}
