/** An answer of the admin API: status, headers, raw text and the parsed JSON body (`{}` when empty). */
export interface AdminAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, unknown>;
}

/**
 * A caller of a gateway's admin API with a bearer token (`null`: none). `baseUrl` is read on each
 * call, so the helper can be made before the gateway it talks to has started.
 */
export function adminCaller(
  baseUrl: () => string | undefined,
  defaultToken: string,
): (method: string, path: string, body?: unknown, token?: string | null) => Promise<AdminAnswer> {
  return async (method, path, body, token = defaultToken) => {
    const base = baseUrl();
    if (base === undefined) throw new Error('adminCaller: the gateway has no admin listener');
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };
}
