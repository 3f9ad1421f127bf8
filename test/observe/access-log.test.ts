import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { maskSensitive } from '../../src/dlp/mask.js';
import { createLogger, isoNow, type Logger } from '../../src/observe/logger.js';
import { jsonLogString, LOG_REDACT_PATHS, mayHoldSensitive } from '../../src/observe/redact.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { LogStage, ResponseSummary } from '../../src/pipeline/stage.js';
import stage from '../../src/stages/observe/access-log.js';
import { fakeBuild, fakeContext, fakeServices } from '../traffic/fakes.js';

function sink(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

/** The logger and access logger as they were before the access line was serialised by hand. */
function previousAccessLogger(stream: Writable): Logger {
  const root = pino(
    {
      level: 'info',
      base: { pid: process.pid },
      redact: { paths: [...LOG_REDACT_PATHS], censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: maskSensitive },
    },
    stream,
  );
  const redact = ['authorization', 'cookie', 'apiKey', 'token', 'password', 'secret', 'clientSecret'];
  return root.child({ type: 'access' }, { redact: { paths: redact, censor: '[REDACTED]' } });
}

/** The record the stage used to log (the same expression as before). */
function previousRecord(ctx: RequestContext, summary: ResponseSummary, routeName: string) {
  const fields = ctx as unknown as { upstreamTarget?: string };
  return {
    requestId: ctx.id,
    route: routeName,
    method: ctx.method,
    path: ctx.path,
    host: ctx.host,
    client: ctx.clientIp,
    status: summary.status,
    bytesIn: summary.bytesReceived,
    bytesOut: summary.bytesSent,
    gatewayMs: Number(summary.gatewayNs) / 1e6,
    upstreamMs: Number(summary.upstreamNs) / 1e6,
    totalMs: Number(summary.totalNs) / 1e6,
    upstream: fields.upstreamTarget,
    consumer: ctx.identity?.consumerId ?? ctx.identity?.subject,
    error: summary.errorCode,
    aborted: summary.aborted || undefined,
    ...ctx.logFields,
  };
}

async function buildStage(logger: Logger, routeName = 'orders'): Promise<LogStage> {
  const services = { ...fakeServices(), logger };
  return (await stage.build(undefined, fakeBuild(services, { route: { name: routeName } }))) as LogStage;
}

interface Case {
  readonly name: string;
  readonly ctx?: Partial<Record<keyof RequestContext | 'upstreamTarget', unknown>>;
  readonly summary?: Partial<ResponseSummary>;
  readonly route?: string;
}

const CASES: Case[] = [
  { name: 'plain proxied request', ctx: { upstreamTarget: 'http://10.0.0.5:8080' } },
  {
    name: 'consumer, error, aborted',
    ctx: { identity: { consumerId: 'acme-billing', subject: 'sub-1' } },
    summary: { status: 401, errorCode: 'unauthorized', aborted: true, upstreamNs: 0n },
  },
  { name: 'subject when no consumer id', ctx: { identity: { subject: 'user_42@example.com' } } },
  {
    name: 'card number and AWS key in the path',
    ctx: { path: '/things/4111111111111111/AKIAIOSFODNN7EXAMPLE' },
  },
  { name: 'SSN and IBAN in the path', ctx: { path: '/p/536-22-1234/DE89370400440532013000' } },
  { name: 'a client request id that is a card number', ctx: { id: '4111-1111-1111-1111' } },
  { name: 'quotes, backslashes and non-ASCII', ctx: { path: '/a"b\\c/café/☃', host: 'xn--caf-dma.example' } },
  { name: 'upper-case route and host', route: 'Orders_V2', ctx: { host: 'API.Example.COM' } },
  {
    name: 'stage log fields: strings, numbers, objects, credentials by name',
    ctx: {
      logFields: {
        authnMethod: 'jwt',
        authnReason: 'jwt_expired',
        token: 'secret-token-value',
        password: 'hunter2',
        authz: { decision: 'deny', check: 'rbac', reason: 'missing_permission' },
        nested: { password: 'nested-not-redacted-by-name', card: '4111 1111 1111 1111' },
        note: 'paid with 5555555555554444',
        skipped: undefined,
        count: 3,
        ratio: Number.POSITIVE_INFINITY,
        filtered: true,
        list: ['a', 1, null],
      },
    },
  },
  {
    name: 'a stage field replacing a fixed one',
    ctx: { logFields: { error: 'custom', operationId: 'getThing' } },
  },
  { name: 'a stage field removing a fixed one', ctx: { logFields: { upstream: undefined } } },
];

function makeRequest(c: Case): { ctx: RequestContext; summary: ResponseSummary } {
  const ctx = Object.assign(fakeContext(), { id: randomUUID(), path: '/things/1', logFields: {} }, c.ctx);
  const summary: ResponseSummary = {
    status: 200,
    bytesSent: 812,
    bytesReceived: 17,
    gatewayNs: 210_000n,
    upstreamNs: 3_400_000n,
    totalNs: 3_610_000n,
    aborted: false,
    ...c.summary,
  };
  return { ctx: ctx as RequestContext, summary };
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"');

describe('access log lines', () => {
  test('are byte for byte what pino wrote before (apart from the time)', async () => {
    for (const c of CASES) {
      const before = sink();
      const after = sink();
      const previous = previousAccessLogger(before.stream);
      const current = await buildStage(createLogger({ stream: after.stream }), c.route);
      const { ctx, summary } = makeRequest(c);
      previous.info(previousRecord(ctx, summary, c.route ?? 'orders'));
      current.run(ctx, summary);
      await new Promise((r) => setImmediate(r));
      assert.equal(after.lines().length, 1, c.name);
      assert.equal(withoutTime(after.lines()[0]!), withoutTime(before.lines()[0]!), c.name);
      const parsed = JSON.parse(after.lines()[0]!) as Record<string, unknown>;
      assert.match(String(parsed.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  test('nothing secret, masked values and valid JSON for hostile values', async () => {
    const out = sink();
    const s = await buildStage(createLogger({ stream: out.stream }));
    const { ctx, summary } = makeRequest({
      name: 'hostile',
      ctx: {
        id: 'AKIAIOSFODNN7EXAMPLE',
        path: '/x/\u0001\u0000"4111111111111111"\\\ud800',
        logFields: { secret: 's3cr3t-value', clientSecret: 'cs-value', apiKey: 'pcs_live_key' },
      },
    });
    s.run(ctx, summary);
    await new Promise((r) => setImmediate(r));
    const text = out.lines().join('\n');
    for (const secret of [
      'AKIAIOSFODNN7EXAMPLE',
      '4111111111111111',
      's3cr3t-value',
      'cs-value',
      'pcs_live_key',
    ])
      assert.ok(!text.includes(secret), `log contains ${secret}`);
    const line = JSON.parse(out.lines()[0]!) as Record<string, unknown>;
    assert.equal(line.requestId, '[REDACTED:awsAccessKey]');
    assert.equal(line.secret, '[REDACTED]');
    assert.match(String(line.path), /\*{12}1111/);
  });

  test('follow the logger level', async () => {
    const out = sink();
    const logger = createLogger({ stream: out.stream, level: 'warn' });
    const s = await buildStage(logger);
    const { ctx, summary } = makeRequest({ name: 'quiet' });
    s.run(ctx, summary);
    logger.level = 'info';
    s.run(ctx, summary);
    await new Promise((r) => setImmediate(r));
    assert.equal(out.lines().length, 1);
  });

  test('go through the logger itself when it was not made by createLogger', async () => {
    const out = sink();
    const logger = pino(
      { base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) } },
      out.stream,
    );
    const s = await buildStage(logger);
    const { ctx, summary } = makeRequest(CASES[3]!);
    s.run(ctx, summary);
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(out.lines()[0]!) as Record<string, unknown>;
    assert.equal(line.type, 'access');
    assert.equal(line.path, '/things/************1111/[REDACTED:awsAccessKey]');
    assert.equal(line.route, 'orders');
    assert.equal(line.status, 200);
  });
});

describe('batched destination', () => {
  test('lines reach the file on flush, and within a second without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-log-'));
    try {
      const file = join(dir, 'access.log');
      const logger = createLogger({ destination: file });
      const s = await buildStage(logger);
      const { ctx, summary } = makeRequest(CASES[0]!);
      for (let i = 0; i < 3; i++) s.run(ctx, summary);
      logger.info('reloaded');
      await new Promise<void>((resolve, reject) =>
        logger.flush((error) => (error ? reject(error) : resolve())),
      );
      const first = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.equal(first.length, 4);
      assert.equal((JSON.parse(first[3]!) as { msg: string }).msg, 'reloaded');

      s.run(ctx, summary);
      await new Promise((r) => setTimeout(r, 1500));
      const second = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.equal(second.length, 5);

      // more than one batch (64 KiB) in one go: nothing lost, every line whole
      for (let i = 0; i < 1000; i++) s.run(ctx, summary);
      await new Promise<void>((resolve, reject) =>
        logger.flush((error) => (error ? reject(error) : resolve())),
      );
      await new Promise((r) => setTimeout(r, 100));
      const third = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.equal(third.length, 1005);
      for (const line of third) JSON.parse(line);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('buffers are reused only once written: many batches arrive whole and in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-log-'));
    try {
      const file = join(dir, 'many.log');
      const logger = createLogger({ destination: file });
      const padding = 'p'.repeat(300);
      let n = 0;
      for (let round = 0; round < 60; round++) {
        // several batches per turn of the event loop, with writes in flight
        for (let i = 0; i < 700; i++) logger.info({ n: n++, padding });
        await new Promise((r) => setImmediate(r));
      }
      await new Promise<void>((resolve, reject) =>
        logger.flush((error) => (error ? reject(error) : resolve())),
      );
      await new Promise((r) => setTimeout(r, 200));
      const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      assert.equal(lines.length, n);
      lines.forEach((line, i) => assert.equal((JSON.parse(line) as { n: number }).n, i));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('cheap log values', () => {
  test('isoNow is toISOString', () => {
    const base = Date.UTC(2026, 10, 28, 23, 59, 58);
    for (const delta of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2005, 86_400_000, -1, -1000]) {
      const now = base + delta;
      assert.equal(isoNow(now), new Date(now).toISOString(), String(delta));
    }
    assert.equal(isoNow(-62_198_755_200_000 - 1), new Date(-62_198_755_200_000 - 1).toISOString());
  });

  test('the shortcut is on for the log detectors, and values it skips never hold anything', () => {
    assert.equal(mayHoldSensitive('/items/42'), false, 'shortcut is off: a log detector it does not know');
    const flagged = [
      '4111111111111111',
      '4111 1111 1111 1111',
      'x4111-1111-1111-1111',
      '536-22-1234',
      'AB123456C',
      'DE89 3704 0044 0532 0130 00',
      '-----BEGIN PRIVATE KEY-----',
      'AKIAIOSFODNN7EXAMPLE',
      'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'xoxb-123456789012-1234567890123-abcdefghijklmnop',
      'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      'AIzaSyD-1234567890abcdefghijklmnopqrstu',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig',
    ];
    for (const text of flagged) assert.equal(mayHoldSensitive(`/p/${text}/q`), true, text);

    // random values from every character class the detectors care about, and generated ids
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = '0123456789012345678901234567890123456789 --abcdefxoAKIZ_/.:"\\';
    for (let i = 0; i < 200_000; i++) {
      const length = 9 + Math.floor(random() * 40);
      let text = '';
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      if (!mayHoldSensitive(text)) assert.equal(maskSensitive(text), text, text);
    }
    for (let i = 0; i < 20_000; i++) {
      const id = randomUUID();
      if (!mayHoldSensitive(id)) assert.equal(maskSensitive(id), id, id);
    }
  });

  test('jsonLogString is JSON.stringify of the masked value', () => {
    for (const text of [
      '',
      'plain',
      '/items/42',
      'a"b',
      'c\\d',
      '\u0001',
      '\ud800x',
      '☃',
      'card 4111111111111111',
    ])
      assert.equal(jsonLogString(text), JSON.stringify(maskSensitive(text)), text);
  });
});
