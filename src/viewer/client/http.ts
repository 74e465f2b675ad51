// The viewer's API calls: same-origin JSON, the session cookie sent along. A 401 anywhere means "sign in again".

/** The server answered 401: not signed in (or the session ended). */
export class Unauthorized extends Error {}

/** Any other failure, with the server's `error` text when it gave one. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function errorText(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { error?: unknown }).error === 'string'
    ) {
      return (body as { error: string }).error;
    }
  } catch {
    // not JSON: fall back to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** Calls the API and parses its JSON answer; throws `Unauthorized` on 401 and `ApiError` on any other failure. */
export async function api<T>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method: options.method ?? 'GET', credentials: 'same-origin', headers };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `The server cannot be reached (${(error as Error).message}).`);
  }
  if (response.status === 401) throw new Unauthorized(await errorText(response));
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
