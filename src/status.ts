/**
 * The status bar item: "2 services · 1 deploying" for the workspace the sidebar shows; a click opens the sidebar.
 * Fed by the sidebar's DeploymentsModel (no poller of its own).
 */
import { Widget } from '@lumino/widgets';

import { MissingServerExtension } from './api';
import { statusText } from './format';
import { DeploymentsModel } from './model';

export class DeploymentsStatus extends Widget {
  constructor(
    private readonly model: DeploymentsModel,
    open: () => void
  ) {
    super({ node: document.createElement('span') });
    this.id = 'aci-widgets-status';
    this.addClass('jp-StatusBar-TextItem');
    this.addClass('aci-Status');
    this.node.addEventListener('click', open);
    this.node.textContent = 'Deployments';
    this.node.title = 'Show the Deployments sidebar';
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
    const { error, workspace, services } = model;
    if (error instanceof MissingServerExtension) {
      this.node.textContent = 'aci_widgets: server extension missing';
      this.node.title =
        'The aci_widgets server extension does not answer: run "jupyter server extension enable aci_widgets" ' +
        'and restart JupyterLab (or see the JupyterLab log for why it failed to load).';
    } else if (error) {
      this.node.textContent = 'aci_widgets: server error';
      this.node.title = `Cannot list services: ${error.message}`;
    } else if (!workspace) {
      this.node.textContent = 'aci_widgets: no workspace';
      this.node.title = 'No aci_widgets workspace yet: Workspace.create("name", exist_ok=True) makes one.';
    } else if (services) {
      this.node.textContent = statusText(services);
      this.node.title = `Services of workspace "${workspace}": click to show the Deployments sidebar`;
    }
  }
}
