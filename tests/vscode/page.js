// A notebook output as VS Code's Jupyter extension renders an ipywidget: its own ipywidgets 8
// manager (@vscode/jupyter-ipywidgets8, loaded unchanged) on a kernel connection, nested
// outputs handed to registered mime renderers. Bundled by esbuild; ipywidgets.js stays apart.
import { KernelConnection, ServerConnection } from '@jupyterlab/services';
import { activate } from './ipywidgets.js';

const WIDGET = 'application/vnd.jupyter.widget-view+json';
const PLOTLY = 'application/vnd.plotly.v1+json';

activate();
window.vscIPyWidgets8.load();
const { WidgetManager } = window.vscIPyWidgets;
window.widgetLog = [];

// Plays VS Code's part: runs `code` in the kernel, inserts its HTML outputs with their scripts
// run (as VS Code's HTML renderer does in a trusted notebook) and draws its widget output into
// #output. Returns the widget's model id once the view is attached.
window.runAndRender = async ({ baseUrl, token, kernelId, code }) => {
  const serverSettings = ServerConnection.makeSettings({
    baseUrl, wsUrl: baseUrl.replace(/^http/, 'ws'), token, appendToken: true,
  });
  const kernel = new KernelConnection({
    model: { id: kernelId, name: 'python3' }, serverSettings, handleComms: true,
  });
  const host = document.getElementById('output');
  const scriptLoader = {
    widgetsRegisteredInRequireJs: new Set(),
    errorHandler: (className, moduleName, version, error) =>
      console.error(`widget class ${moduleName}@${version}:${className} failed: ${error}`),
    loadWidgetScript: async (moduleName, version) => {
      throw new Error(`no script for ${moduleName}@${version}`);
    },
    successHandler: () => {},
  };
  const manager = new WidgetManager(kernel, host, scriptLoader, (m) => window.widgetLog.push(m));
  // VS Code hands plotly figures inside Output widgets to its own plotly renderer; this one
  // stands in for it, drawing the figure's JSON with plotly.js.
  manager.registerMimeRenderer(PLOTLY, async (model, node) => {
    const figure = model.data[PLOTLY];
    await window.Plotly.newPlot(node, figure.data, figure.layout, figure.config || {});
  });
  let shown;
  const future = kernel.requestExecute({ code, store_history: false });
  future.onIOPub = (msg) => {
    const { msg_type: type } = msg.header;
    const data = msg.content.data || {};
    if ((type === 'display_data' || type === 'execute_result') && data[WIDGET]) {
      shown = data[WIDGET];
    } else if (type === 'display_data' && data['text/html']) {
      const html = document.createElement('div');
      html.className = 'html-output';
      html.append(document.createRange().createContextualFragment(data['text/html']));
      host.before(html);
    } else if (type === 'error') {
      console.error(`${msg.content.ename}: ${msg.content.evalue}`);
    }
  };
  const reply = await future.done;
  if (reply.content.status !== 'ok') {
    throw new Error(`the cell failed: ${reply.content.ename}: ${reply.content.evalue}`);
  }
  if (!shown) throw new Error('the cell showed no widget');
  const model = await manager.get_model(shown.model_id);
  const view = await manager.create_view(model, { el: host });
  await manager.display_view(shown, view, { node: host });
  window.widgetKernel = kernel;
  return shown.model_id;
};
