import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Demo data: accounts owned by two users, so object-level authorization can be tried. */
const accounts: Record<
  string,
  { id: string; owner: string; name: string; balance: number; internalRiskScore: number }
> = {
  'acc-alice': {
    id: 'acc-alice',
    owner: 'alice',
    name: "Alice's account",
    balance: 1200,
    internalRiskScore: 3,
  },
  'acc-bob': { id: 'acc-bob', owner: 'bob', name: "Bob's account", balance: 87, internalRiskScore: 9 },
};

const pets = [
  { id: 1, name: 'Rex', tag: 'dog' },
  { id: 2, name: 'Tom', tag: 'cat' },
];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The bundled demo API that the example config fronts. Never expose it directly. */
export function createDemoUpstream(): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const path = url.pathname;
    const body = await readBody(req);
    if (path === '/health') return send(res, 200, { status: 'ok' });
    if (path.startsWith('/echo')) {
      return send(res, 200, {
        method: req.method,
        path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      });
    }
    const account = /^\/accounts\/([^/]+)$/.exec(path);
    if (account) {
      const found = accounts[decodeURIComponent(account[1]!)];
      if (!found) return send(res, 404, { error: 'no such account' });
      return send(res, 200, found);
    }
    if (path === '/pets' && req.method === 'GET') return send(res, 200, pets);
    if (path === '/pets' && req.method === 'POST') {
      try {
        const pet = JSON.parse(body) as { name?: string; tag?: string };
        return send(res, 201, { id: pets.length + 1, ...pet });
      } catch {
        return send(res, 400, { error: 'bad json' });
      }
    }
    const pet = /^\/pets\/(\d+)$/.exec(path);
    if (pet) {
      const found = pets.find((p) => p.id === Number(pet[1]));
      return found ? send(res, 200, found) : send(res, 404, { error: 'no such pet' });
    }
    if (path === '/boom') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(
        'Error: database exploded\n    at Query.run (/srv/app/db.js:42:13)\n    at /srv/app/routes.js:7:5',
      );
      return;
    }
    send(res, 404, { error: 'not found' });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.DEMO_PORT ?? 3001);
  createDemoUpstream().listen(port, '127.0.0.1', () => {
    process.stderr.write(`demo upstream on http://127.0.0.1:${port}\n`);
  });
}
