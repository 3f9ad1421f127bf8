import { request, type Dispatcher } from 'undici';

export interface IntrospectionClientOptions {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuth: 'client_secret_basic' | 'client_secret_post';
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly dispatcher?: Dispatcher;
}

/** The server could not give an answer (unreachable, timeout, non-200, malformed): fail closed. */
export class IntrospectionUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IntrospectionUnavailableError';
  }
}

const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');

/** Calls an RFC 7662 endpoint and returns the parsed JSON object. */
export async function introspect(
  token: string,
  options: IntrospectionClientOptions,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  let body = `token=${formEncode(token)}&token_type_hint=access_token`;
  if (options.clientAuth === 'client_secret_basic') {
    // RFC 6749 §2.3.1: id and secret are form-encoded before Base64
    const credentials = `${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  } else {
    body += `&client_id=${formEncode(options.clientId)}&client_secret=${formEncode(options.clientSecret)}`;
  }
  let response: Dispatcher.ResponseData;
  try {
    response = await request(options.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
  } catch (error) {
    throw new IntrospectionUnavailableError('introspection request failed', { cause: error });
  }
  if (response.statusCode !== 200) {
    response.body.resume();
    throw new IntrospectionUnavailableError(`introspection answered ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > options.maxResponseBytes) {
        response.body.destroy();
        throw new IntrospectionUnavailableError('introspection response too large');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof IntrospectionUnavailableError) throw error;
    throw new IntrospectionUnavailableError('introspection body failed', { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new IntrospectionUnavailableError('introspection response is not JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new IntrospectionUnavailableError('introspection response is not an object');
  }
  return parsed as Record<string, unknown>;
}
