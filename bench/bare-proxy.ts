// The reference point of shared/BASELINES.md: a bare `node:http` server forwarding with an
// undici Pool (keep-alive, streaming), hop-by-hop headers dropped, X-Forwarded-For added; no
// routing, no pipeline, no logging. Run as its own process:
//   UPSTREAM=http://127.0.0.1:PORT node --import tsx bench/bare-proxy.ts   (prints its port)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.env.UPSTREAM;
if (upstream === undefined) throw new Error('set UPSTREAM=http://host:port');
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.request(
    { method: req.method as 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null },
    (error, data) => {
      if (error !== null) {
        res.writeHead(502).end();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(data.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(data.statusCode, out);
      data.body.pipe(res);
    },
  );
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
