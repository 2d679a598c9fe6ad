import type { FieldError } from '../../../src/contracts/index.js';
import { plainMessage } from './plainMessages.js';

/** A non-2xx answer, carrying the API's `{ ok: false, error, … }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly body: Record<string, unknown>,
  ) {
    super(`${status} ${code}`);
    this.name = 'ApiError';
  }

  /** Field-level problems, including unknown provider ids, for showing next to inputs. */
  get fieldErrors(): FieldError[] {
    const details = this.body['details'];
    const errors: FieldError[] = Array.isArray(details)
      ? details
          .filter(
            (detail): detail is FieldError =>
              typeof detail === 'object' &&
              detail !== null &&
              typeof (detail as FieldError).path === 'string' &&
              typeof (detail as FieldError).message === 'string',
          )
          .map((detail) => ({ path: detail.path, message: plainMessage(detail.message) }))
      : [];
    const unknown = this.body['providerIds'];
    if (this.code === 'unknown_provider' && Array.isArray(unknown)) {
      errors.push({
        path: 'providers',
        message: `No such provider (or archived): ${unknown.map((id) => `#${String(id)}`).join(', ')}`,
      });
    }
    return errors;
  }
}

/** What a call answered, whatever the status: the test tools show every outcome. */
export interface RawResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  /** Milliseconds from sending to the whole body being read. */
  ms: number;
}

async function readBody(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  } catch {
    return { error: 'unreadable_response', text: text.slice(0, 200) };
  }
}

export async function send<T = Record<string, unknown>>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse<T>> {
  const started = performance.now();
  const response = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const parsed = await readBody(response);
  return { status: response.status, body: parsed as T, ms: performance.now() - started };
}

/**
 * The admin API's transport for queries and mutations: the body of a 2xx answer, or an
 * ApiError. The query client's caches see every error, which is where a 401 is handled.
 */
export async function call<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await send<T>(method, path, body);
  if (response.status >= 400) {
    const errorBody = response.body as Record<string, unknown>;
    const code = typeof errorBody['error'] === 'string' ? errorBody['error'] : 'request_failed';
    throw new ApiError(response.status, code, errorBody);
  }
  return response.body;
}

export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
