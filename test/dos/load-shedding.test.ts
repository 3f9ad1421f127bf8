import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway({
    admin: { host: '127.0.0.1', port: 0, token: randomBytes(32).toString('base64url') },
    loadShedding: { maxEventLoopDelayMs: 40, sampleIntervalMs: 20, retryAfterSec: 3 },
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'app', public: true }],
  });
});
after(async () => {
  await gw?.close();
  await upstream?.close();
});

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // CPU-bound work in the gateway's own process
  }
}

test('overload: requests get 503 overloaded with Retry-After, health keeps answering, then it releases', async () => {
  // A busy machine (other test files) can lag the loop past 40 ms at start: wait for calm first.
  let before = 503;
  for (let i = 0; i < 100 && before === 503; i++) {
    const res = await fetch(`${gw.url}/before`);
    before = res.status;
    await res.arrayBuffer();
    if (before === 503) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(before, 200);
  // keep the event loop lagging: 100 ms of blocking work every turn
  const load = setInterval(() => busy(100), 0);
  let shed: Response | undefined;
  try {
    for (let i = 0; i < 200 && shed === undefined; i++) {
      const res = await fetch(`${gw.url}/during`);
      if (res.status === 503) shed = res;
      else await res.arrayBuffer();
    }
    assert.ok(shed, 'never shed while the loop lagged');
    assert.equal(shed.headers.get('retry-after'), '3');
    assert.equal(shed.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await shed.json()) as { code: string }).code, 'overloaded');
    // the admin listener is not behind the shedder
    assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
  } finally {
    clearInterval(load);
  }
  let status = 503;
  while (status === 503) {
    const res = await fetch(`${gw.url}/after`);
    status = res.status;
    await res.arrayBuffer();
  }
  assert.equal(status, 200);
});
