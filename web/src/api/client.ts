import createClient, { type Middleware } from 'openapi-fetch';
import { forgetKey, storedKey } from '../app/session';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** Herald's public API, typed from its served OpenAPI document (web/scripts/generate-api.mjs). */
export const api = createClient<paths>({ baseUrl: window.location.origin });

const auth: Middleware = {
  onRequest({ request }) {
    const key = storedKey();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ response }) {
    // A revoked or expired key: back to sign-in.
    if (response.status === 401 && storedKey()) {
      forgetKey();
      window.dispatchEvent(new Event('herald:signed-out'));
    }
    return response;
  },
};
api.use(auth);

/** An API error, with the API's own message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The data of an answer, or an ApiError carrying the API's message. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const body = error as { message?: unknown } | undefined;
    throw new ApiError(response.status, typeof body?.message === 'string' ? body.message : `${response.status} ${response.statusText}`);
  }
  return data as T;
}
