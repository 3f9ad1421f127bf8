import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cpuSeconds, processTree } from '../../bench/lib/cpu.js';
import { firstRequest, loadScript } from '../../bench/lib/load-script.js';
import { injectionOrderBody, invalidOrderBody, orderBody } from '../../bench/lib/payloads.js';
import { commandDelta } from '../../bench/lib/redis.js';
import {
  coreTargets,
  median,
  renderTable,
  summarise,
  type RowResult,
  type Sample,
} from '../../bench/lib/report.js';
import { parseWrk } from '../../bench/lib/wrk.js';
import { summariseProfile, type Profile } from '../../bench/cpuprofile-summary.js';

const WRK_OUTPUT = `Running 10s test @ http://127.0.0.1:8080/items/42
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms  420.12us  12.40ms   91.20%
    Req/Sec    21.70k     1.10k   23.50k    72.00%
  Latency Distribution
     50%    2.20ms
     75%    2.41ms
     90%  812.00us
     99%    1.05s 
  215962 requests in 10.00s, 84.20MB read
  Non-2xx or 3xx responses: 17
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  21596.20
Transfer/sec:      8.42MB
`;

describe('bench harness', () => {
  test('parses wrk --latency output, converting every latency unit to ms', () => {
    const r = parseWrk(WRK_OUTPUT);
    assert.equal(r.requests, 215962);
    assert.equal(r.seconds, 10);
    assert.equal(r.rps, 21596.2);
    assert.equal(r.p50Ms, 2.2);
    assert.equal(r.p99Ms, 1050);
    assert.equal(r.non2xx, 17);
    assert.equal(r.socketErrors, 3);
  });

  test('refuses output it cannot read instead of reporting zeros', () => {
    assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /cannot parse/);
  });

  test('wrk Lua scripts: fixed request and rotating header', () => {
    const fixed = loadScript({
      path: '/orders',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":"it\'s"}',
      expectStatus: 200,
    });
    assert.match(fixed, /^wrk\.method = "POST"$/m);
    assert.match(fixed, /^wrk\.body = "\{\\"a\\":\\"it's\\"\}"$/m);
    assert.doesNotMatch(fixed, /function request/);
    const rotating = loadScript({
      path: '/x',
      rotate: { header: 'authorization', values: ['Bearer a', 'Bearer b'] },
      expectStatus: 200,
    });
    assert.match(rotating, /"Bearer a",\n {2}"Bearer b",/);
    assert.match(rotating, /function request\(\)/);
    assert.deepEqual(
      firstRequest({ path: '/x', rotate: { header: 'authorization', values: ['t1'] }, expectStatus: 200 }),
      {
        path: '/x',
        method: 'GET',
        headers: { authorization: 't1' },
      },
    );
    assert.throws(() => loadScript({ path: '/', headers: { x: 'line\nbreak' }, expectStatus: 200 }));
  });

  test('payloads: a 2 KB order, and variants that break the schema or carry an injection', () => {
    const body = orderBody();
    assert.equal(body.length, 2048);
    assert.equal((JSON.parse(invalidOrderBody()) as { isAdmin: boolean }).isAdmin, true);
    assert.match(injectionOrderBody(), /UNION SELECT/);
  });

  test('medians, ratios and targets', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const sample = (rps: number, cpuSec: number): Sample => ({
      rps,
      p50Ms: 1,
      p99Ms: 2,
      requests: rps * 10,
      cpuSec,
      unexpected: 0,
      socketErrors: 0,
    });
    const results: RowResult[] = [
      { id: 'nginx', label: 'nginx', samples: [sample(10000, 0.5)], notes: [] },
      {
        id: 'plain',
        label: 'plain',
        samples: [sample(6000, 0.6), sample(5000, 0.6), sample(7000, 0.6)],
        notes: [],
      },
      {
        id: 'api-key',
        label: 'api key',
        compareTo: 'plain',
        target: 0.9,
        samples: [sample(5000, 0.6)],
        notes: [],
      },
      { id: 'jwt', label: 'jwt', skipped: 'not there yet', samples: [], notes: [] },
    ];
    assert.equal(summarise(results[1]!.samples).rps, 6000);
    assert.equal(Math.round(summarise(results[0]!.samples).cpuUsPerRequest), 5);
    const table = renderTable(results);
    assert.match(table, /\| api key \| 5000 \|.*\| 0\.83× plain \(≥ 0\.9: MISSED\), CPU \+2 µs \|/);
    assert.match(table, /\| jwt \| – .*skipped: not there yet \|/);
    const targets = coreTargets(results).join('\n');
    assert.match(targets, /0\.60× nginx-1-worker \(target ≥ 0\.5: met\)/);
  });

  test('Redis command deltas leave out INFO and unchanged commands', () => {
    assert.deepEqual(
      commandDelta({ evalsha: 10, info: 3, get: 5 }, { evalsha: 110, info: 5, get: 5, time: 100 }),
      {
        evalsha: 100,
        time: 100,
      },
    );
  });

  test('CPU time of a process tree from /proc', { skip: process.platform !== 'linux' }, () => {
    const tree = processTree(process.pid);
    assert.equal(tree[0], process.pid);
    const before = cpuSeconds(tree);
    let x = 0;
    const end = Date.now() + 50;
    while (Date.now() < end) x += Math.sqrt(x + 1);
    assert.ok(cpuSeconds(tree) >= before);
    assert.equal(cpuSeconds([2 ** 30]), 0);
  });

  test('cpuprofile summary: self time per function, skipping start-up samples', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
    const profile: Profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3] },
        { id: 2, callFrame: frame('hot', 'file:///x/dist/pipeline/runner.js') },
        { id: 3, callFrame: frame('(idle)') },
      ],
      startTime: 0,
      endTime: 4000,
      samples: [2, 2, 3, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    const all = summariseProfile(profile);
    assert.equal(all.functions[0]!.name, 'hot dist/pipeline/runner.js:1');
    assert.equal(all.functions[0]!.us, 3000);
    const late = summariseProfile(profile, 2.5);
    assert.equal(late.total, 2000);
  });
});
