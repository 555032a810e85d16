/**
 * aci_widgets in JupyterLab: the Deployments sidebar, its log and swagger panels, "Insert card", the status bar
 * item, and their settings (schema/deployments.json: refresh interval, default workspace; followed live).
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';

import { logPanel, swaggerPanel } from './logs';
import { DeploymentsModel } from './model';
import { DeploymentsPanel } from './panel';
import { DeploymentsStatus } from './status';

const ICON = new LabIcon({
  name: 'aci_widgets:deployments',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M4 4h16v4H4zM4 10h16v4H4zM4 16h16v4H4z" opacity=".85"/>' +
    '<circle cx="17" cy="6" r="1.2" fill="#fff"/><circle cx="17" cy="12" r="1.2" fill="#fff"/>' +
    '<circle cx="17" cy="18" r="1.2" fill="#fff"/></g></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'aci_widgets:deployments',
  description: 'The Deployments sidebar: every service of a workspace, live, with its logs, test and delete.',
  autoStart: true,
  requires: [ILabShell],
  optional: [INotebookTracker, ISettingRegistry, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    notebooks: INotebookTracker | null,
    registry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    const open = (panel: MainAreaWidget) => {
      const existing = [...shell.widgets('main')].find(w => w.id === panel.id);
      if (existing) {
        panel.dispose();
        shell.activateById(existing.id);
        return;
      }
      shell.add(panel, 'main');
      shell.activateById(panel.id);
    };
    const model = new DeploymentsModel();
    const sidebar = new DeploymentsPanel(model, {
      openLogs: (workspace, name) => open(logPanel(workspace, name)),
      openSwagger: (workspace, name) => open(swaggerPanel(workspace, name)),
      insertCard: (workspace, name) => {
        const current = notebooks?.currentWidget;
        if (!current) {
          return false;
        }
        const notebook = current.content;
        // The card is drawn by the extension's formatters: load it unless the notebook already does.
        const loaded = notebook.model?.sharedModel.cells.some(cell =>
          cell.getSource().includes('%load_ext aci_widgets')
        );
        NotebookActions.insertBelow(notebook);
        notebook.activeCell?.model.sharedModel.setSource(
          (loaded ? '' : '%load_ext aci_widgets\n') +
            'from aci_widgets.core import Webservice, Workspace\n\n' +
            `Webservice(Workspace(${JSON.stringify(workspace)}), ${JSON.stringify(name)})`
        );
        shell.activateById(current.id);
        return true;
      }
    });
    sidebar.title.icon = ICON;
    shell.add(sidebar, 'left', { rank: 900 });
    app.commands.addCommand('aci_widgets:open-deployments', {
      label: 'Show Deployments',
      execute: () => shell.activateById(sidebar.id)
    });
    if (statusBar) {
      const status = new DeploymentsStatus(model, () => void app.commands.execute('aci_widgets:open-deployments'));
      statusBar.registerStatusItem('aci_widgets:deployments-status', { item: status, align: 'left', rank: 900 });
    }
    if (!registry) {
      model.start();
      return;
    }
    registry
      .load(plugin.id)
      .then(settings => {
        const apply = () => {
          model.refreshSeconds = settings.get('refreshInterval').composite;
          const workspace = settings.get('defaultWorkspace').composite;
          model.defaultWorkspace = typeof workspace === 'string' ? workspace.trim() : '';
        };
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason => console.error(`aci_widgets: its settings could not be read, defaults used: ${reason}`))
      .then(() => model.start());
  }
};

export default plugin;
