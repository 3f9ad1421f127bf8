import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const RECORD = {
  name: 'Ann',
  card: '4111 1111 1111 1111',
  wrongCard: '4111 1111 1111 1112',
  ssn: '536-22-1234',
  key: 'AKIAIOSFODNN7EXAMPLE',
};

describe('dlp.sensitive-data through the running gateway', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url?.endsWith('/gzip')) {
        const body = gzipSync(JSON.stringify(RECORD));
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
      if (req.url?.endsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`card ${RECORD.card}\n`);
        return;
      }
      if (req.url?.endsWith('/crash')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Error: connect failed with key AKIAIOSFODNN7EXAMPLE\n    at Object.<anonymous>');
        return;
      }
      if (req.url?.endsWith('/big')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(4096));
        return;
      }
      if (req.url?.endsWith('/image')) {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.from('4111111111111111'));
        return;
      }
      const text = JSON.stringify(RECORD);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const route = (name: string, sensitiveData: unknown) => ({
      name,
      match: { pathPrefix: `/${name}` },
      upstream: 'u',
      public: true,
      sensitiveData,
    });
    gw = await startGateway({
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [
        route('mask', {}),
        route('block', { mode: 'block' }),
        route('report', { mode: 'report' }),
        route('cards', { detectors: ['card'] }),
        route('small', { maxBodyBytes: 1024 }),
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('mask: the Luhn-valid card keeps its last four, the invalid one is untouched, SSN and key are masked', async () => {
    const res = await fetch(gw.url + '/mask/user');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      name: 'Ann',
      card: '**** **** **** 1111',
      wrongCard: '4111 1111 1111 1112',
      ssn: '***-**-1234',
      key: '[REDACTED:awsAccessKey]',
    });
  });

  test('mask: a gzip-encoded JSON response is decoded, masked and sent unencoded', async () => {
    const res = await fetch(gw.url + '/mask/gzip');
    assert.equal(res.headers.get('content-encoding'), null);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.card, '**** **** **** 1111');
  });

  test('mask: text bodies are masked; other media types pass untouched', async () => {
    assert.equal(await (await fetch(gw.url + '/mask/text')).text(), 'card **** **** **** 1111\n');
    assert.equal(await (await fetch(gw.url + '/mask/image')).text(), '4111111111111111');
  });

  test('upstream error responses are inspected too (stack traces leak keys)', async () => {
    const res = await fetch(gw.url + '/mask/crash');
    assert.equal(res.status, 500);
    assert.equal((await res.text()).includes('AKIAIOSFODNN7EXAMPLE'), false);
  });

  test('a response larger than maxBodyBytes is refused, not passed uninspected', async () => {
    const res = await fetch(gw.url + '/small/big');
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { code: string }).code, 'upstream_bad_response');
  });

  test('detectors list: only cards are masked on that route', async () => {
    const body = (await (await fetch(gw.url + '/cards/user')).json()) as Record<string, string>;
    assert.equal(body.card, '**** **** **** 1111');
    assert.equal(body.ssn, '536-22-1234');
  });

  test('block: 502 sensitive_data_blocked, and the body never leaves', async () => {
    const res = await fetch(gw.url + '/block/user');
    assert.equal(res.status, 502);
    const text = await res.text();
    assert.equal(JSON.parse(text).code, 'sensitive_data_blocked');
    assert.equal(text.includes('4111'), false);
    assert.equal(text.includes('AKIA'), false);
  });

  test('report: the response passes unchanged, the finding is logged without the values', async () => {
    const res = await fetch(gw.url + '/report/user');
    assert.deepEqual(await res.json(), RECORD);
    const line = gw.logs.find((l) => l.msg === 'sensitive data in response (report only)');
    assert.ok(line);
    assert.deepEqual((line as { sensitiveData: unknown }).sensitiveData, {
      card: 1,
      ssn: 1,
      awsAccessKey: 1,
    });
    assert.equal(JSON.stringify(line).includes('AKIAIOSFODNN7EXAMPLE'), false);
  });
});
