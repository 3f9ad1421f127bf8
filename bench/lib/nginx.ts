import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type Service } from './process.js';

/** Starts nginx (1 worker, foreground) with bench/nginx.conf templated into `prefix`. */
export function startNginx(template: string, prefix: string, port: number, upstreamPort: number): Service {
  mkdirSync(prefix, { recursive: true });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = readFileSync(template, 'utf8')
    // As root nginx would hand its worker to `nobody`; keep it as the current user instead.
    .replaceAll('{{USER}}', isRoot ? 'user root;' : '')
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{PORT}}', String(port))
    .replaceAll('{{UPSTREAM_PORT}}', String(upstreamPort));
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, conf);
  return startService('nginx', 'nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', file], {
    logFile: join(prefix, 'stdout.log'),
  });
}
