/**
 * The server extension's REST API (aci_widgets/server/handlers.py), as typed calls.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IProgress {
  step: string | null;
  message: string;
  started: number | null;
  step_started: number | null;
  finished: boolean;
  state: string | null;
}

/** CPU (cores busy, or requested) and memory of a running service: aci_widgets.core.usage.Usage. */
export interface IUsage {
  cpu_cores: number;
  memory_bytes: number;
  measured: boolean;
}

export interface IService {
  name: string;
  state: string;
  error: string;
  target: string | null;
  computeType: string;
  scoringUri: string | null;
  swaggerUri: string | null;
  curl: string | null;
  created: number;
  updated: number;
  progress: IProgress | null;
  usage: IUsage | null;
}

export interface ITestResult {
  ok: boolean;
  answer?: unknown;
  error?: string;
  seconds: number;
}

/** The server extension does not answer: it is not installed or not enabled. */
export class MissingServerExtension extends Error {}

/** The server answered with an error; ``message`` is its explanation. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'aci-widgets', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = text;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: a proxy's or tornado's own page
  }
  if (response.status === 404 && !(data && data.message)) {
    throw new MissingServerExtension('no /aci-widgets/ handler on this server');
  }
  if (!response.ok) {
    throw new ApiError((data && data.message) || response.statusText, response.status);
  }
  return data as T;
}

const service = (workspace: string, name: string, tail = '') =>
  `workspaces/${encodeURIComponent(workspace)}/services/${encodeURIComponent(name)}${tail}`;

export const api = {
  workspaces: () => request<{ workspaces: string[] }>('workspaces'),
  services: (workspace: string) =>
    request<{ services: IService[] }>(
      `workspaces/${encodeURIComponent(workspace)}/services`
    ),
  logs: (workspace: string, name: string, tail = 500) =>
    request<{ logs: string }>(service(workspace, name, `/logs?tail=${tail}`)),
  test: (workspace: string, name: string, body: string) =>
    request<ITestResult>(service(workspace, name, '/test'), {
      method: 'POST',
      body
    }),
  swagger: (workspace: string, name: string) =>
    request<any>(service(workspace, name, '/swagger')),
  remove: (workspace: string, name: string) =>
    request<{ deleted: string }>(service(workspace, name), { method: 'DELETE' })
};
