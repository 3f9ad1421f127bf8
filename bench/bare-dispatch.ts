// Experiment: the bare proxy on undici's dispatch API (no Readable body, no promise per request).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const upstream = process.env.UPSTREAM;
if (upstream === undefined) throw new Error('set UPSTREAM=http://host:port');
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

const HOP = new Set([
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
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP.has(name)) headers.push(name, raw[i + 1]!);
  }
  headers.push('x-forwarded-for', req.socket.remoteAddress ?? '');
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onError() {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    },
    onHeaders(status, rawHeaders, resume) {
      const out: string[] = [];
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!.toString('latin1').toLowerCase();
        if (!HOP.has(name)) out.push(name, rawHeaders[i + 1]!.toString('latin1'));
      }
      res.writeHead(status, out);
      res.on('drain', resume);
      return true;
    },
    onData(chunk) {
      return res.write(chunk);
    },
    onComplete() {
      res.end();
    },
  };
  pool.dispatch(
    { method: req.method as 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null },
    handler,
  );
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
