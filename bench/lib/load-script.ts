import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Load } from '../rows.js';

function lua(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error('wrk scripts here carry printable ASCII only');
  return JSON.stringify(value); // for printable ASCII, a JSON string is a valid Lua string literal
}

/**
 * The wrk Lua script for a load. A fixed request sets wrk.method/body/headers (no per-request Lua
 * work); a rotating header pre-formats one request per value in init, so each request costs wrk
 * only an index increment.
 */
export function loadScript(load: Load): string {
  const lines = [`wrk.method = ${lua(load.method ?? 'GET')}`];
  if (load.body !== undefined) lines.push(`wrk.body = ${lua(load.body)}`);
  for (const [name, value] of Object.entries(load.headers ?? {}))
    lines.push(`wrk.headers[${lua(name)}] = ${lua(value)}`);
  if (load.rotate !== undefined) {
    lines.push(
      'local values = {',
      ...load.rotate.values.map((v) => `  ${lua(v)},`),
      '}',
      'local requests = {}',
      'local i = 0',
      'function init(args)',
      '  for k, v in ipairs(values) do',
      '    local headers = {}',
      '    for name, value in pairs(wrk.headers) do headers[name] = value end',
      `    headers[${lua(load.rotate.header)}] = v`,
      `    requests[k] = wrk.format(nil, ${lua(load.path)}, headers)`,
      '  end',
      'end',
      'function request()',
      '  i = i + 1',
      '  if i > #requests then i = 1 end',
      '  return requests[i]',
      'end',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function writeLoadScript(dir: string, name: string, load: Load): string {
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, loadScript(load));
  return file;
}

/** The first request of a load, for fetch (readiness and sanity probes). */
export function firstRequest(load: Load): {
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
} {
  const headers: Record<string, string> = { ...load.headers };
  if (load.rotate !== undefined) headers[load.rotate.header] = load.rotate.values[0] ?? '';
  return {
    path: load.path,
    method: load.method ?? 'GET',
    headers,
    ...(load.body === undefined ? {} : { body: load.body }),
  };
}
