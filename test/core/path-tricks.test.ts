import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { rawRequest, statuses } from '../helpers/raw-http.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/**
 * The route matched and the path the upstream receives must never disagree. `/admin` goes to
 * the "protected" upstream; everything else to the "public" one. Every trick must either be
 * refused with 400 or reach the protected upstream; the public upstream must never see a path
 * that a typical framework would treat as /admin.
 */
const tricks = [
  '/admin',
  '//admin',
  '/./admin',
  '/x/../admin',
  '/x/%2e%2e/admin',
  '/x/%2E%2E/admin',
  '/x/.%2e/admin',
  '/%2e/admin',
  '/%61dmin',
  '/adm%69n',
  '/admin/',
  '/admin//',
  '/admin/.',
  '/admin;x=1',
  '/admin%3b',
  '/admin%2f',
  '/x%2f..%2fadmin',
  '/x/..%2fadmin',
  '/x/..%5cadmin',
  '/x\\..\\admin',
  '/admin%00',
  '/admin%20',
  '/%c0%ae%c0%ae/admin',
  '/admin#',
  '/admin?',
  '/admin/sub/../',
];

function looksLikeAdmin(path: string): boolean {
  let p = path.split('?')[0]!.toLowerCase();
  for (let i = 0; i < 3; i++) {
    try {
      p = decodeURIComponent(p);
    } catch {
      break;
    }
  }
  p = p.replaceAll('\\', '/').split(';')[0]!.replace(/\/+/g, '/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '..') out.pop();
    else if (seg !== '.' && seg !== '') out.push(seg.trim().replace(/\0/g, ''));
  }
  return out[0] === 'admin';
}

describe('path tricks cannot make routing and upstream disagree', () => {
  let protectedUp: TestUpstream;
  let publicUp: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    protectedUp = await startUpstream();
    publicUp = await startUpstream();
    gw = await startGateway({
      upstreams: {
        protected: { targets: [{ url: protectedUp.url }] },
        public: { targets: [{ url: publicUp.url }] },
      },
      routes: [
        { name: 'admin', match: { pathPrefix: '/admin' }, upstream: 'protected', public: true },
        { name: 'rest', match: { pathPrefix: '/' }, upstream: 'public', public: true },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await protectedUp.close();
    await publicUp.close();
  });

  for (const trick of tricks) {
    test(JSON.stringify(trick), async () => {
      const beforeProtected = protectedUp.requests.length;
      const beforePublic = publicUp.requests.length;
      const raw = await rawRequest(
        gw.url,
        `GET ${trick} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n`,
      );
      const [status] = statuses(raw);
      assert.ok(status !== undefined, `no answer for ${trick}`);
      const newPublic = publicUp.requests.slice(beforePublic);
      for (const r of newPublic)
        assert.ok(!looksLikeAdmin(r.url), `${trick} reached the public upstream as ${r.url}`);
      if (status === 200) {
        const newProtected = protectedUp.requests.slice(beforeProtected);
        if (newProtected.length) {
          assert.ok(
            newProtected[0]!.url.startsWith('/admin'),
            `protected upstream got ${newProtected[0]!.url}`,
          );
        }
      } else {
        assert.equal(status, 400, `${trick} answered ${status}`);
        assert.match(raw, /application\/problem\+json/);
      }
    });
  }

  test('case tricks do not reach /admin on a case-sensitive upstream path', async () => {
    const raw = await rawRequest(gw.url, 'GET /ADMIN HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statuses(raw)[0], 200);
    assert.equal(publicUp.requests.at(-1)!.url, '/ADMIN');
  });

  test('case-insensitive routing sends /ADMIN to the admin route when enabled', async () => {
    await gw.reload({
      version: 1,
      listeners: [{ host: '127.0.0.1', port: 0 }],
      paths: { caseInsensitiveRouting: true },
      upstreams: {
        protected: { targets: [{ url: protectedUp.url }] },
        public: { targets: [{ url: publicUp.url }] },
      },
      routes: [
        { name: 'admin', match: { pathPrefix: '/admin' }, upstream: 'protected', public: true },
        { name: 'rest', match: { pathPrefix: '/' }, upstream: 'public', public: true },
      ],
    });
    const before = protectedUp.requests.length;
    const raw = await rawRequest(gw.url, 'GET /AdMiN/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statuses(raw)[0], 200);
    assert.equal(protectedUp.requests.length, before + 1);
  });
});
