import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// The benchmark upstream: every request gets the same 199-byte JSON (as in shared/BASELINES.md),
// after its body (if any) has been drained. Run as its own process; prints its port on stdout.
const BODY = Buffer.from(
  JSON.stringify({
    id: 'f3b2c1d0-0000-4000-8000-000000000001',
    name: 'benchmark item',
    status: 'active',
    tags: ['alpha', 'beta', 'gamma'],
    price: 1999,
    currency: 'EUR',
    updatedAt: '2026-11-27T00:00:00Z',
    p: 'xxxxxxxx',
  }),
);
if (BODY.length !== 199) throw new Error(`upstream body is ${BODY.length} bytes, expected 199`);

const HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

const server = createServer((req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.writeHead(200, HEADERS);
    res.end(BODY);
    return;
  }
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
