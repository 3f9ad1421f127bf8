import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSsrf } from '../../src/waf/ssrf.js';
import { allClasses, attackSamples, benignSamples, inspectSample, readLines } from './corpus.js';
import { STUB_DNS } from './stub-dns.js';

/**
 * Detection and false-positive rates on the corpus at the default level (paranoia 1, all
 * classes). Run `node --import tsx --test test/waf/corpus-rates.test.ts` to print the table
 * that docs/injection.md quotes.
 */
test('default level: >= 95% of attacks detected per class, <= 1% of benign samples flagged', async (t) => {
  const inspector = allClasses(1);
  const rows = new Map<string, { hit: number; total: number; holdHit: number; holdTotal: number }>();
  const misses: string[] = [];
  for (const { cls, sample, holdout } of attackSamples()) {
    const row = rows.get(cls) ?? { hit: 0, total: 0, holdHit: 0, holdTotal: 0 };
    const hit = inspectSample(inspector, sample) !== undefined;
    if (holdout) {
      row.holdTotal++;
      if (hit) row.holdHit++;
    } else {
      row.total++;
      if (hit) row.hit++;
    }
    if (!hit) misses.push(`${cls}: ${JSON.stringify(sample)}`);
    rows.set(cls, row);
  }
  const ssrf = compileSsrf({ lookup: async (host) => STUB_DNS[host] ?? [] });
  const ssrfAttacks = readLines('ssrf.txt');
  let ssrfHit = 0;
  for (const url of ssrfAttacks) {
    if ((await ssrf.check(url)).blocked) ssrfHit++;
    else misses.push(`ssrf: ${url}`);
  }
  rows.set('ssrf', { hit: ssrfHit, total: ssrfAttacks.length, holdHit: 0, holdTotal: 0 });

  const benign = benignSamples();
  const flagged = benign.filter(({ sample }) => inspectSample(inspector, sample) !== undefined);
  const ssrfBenign = readLines('ssrf-benign.txt');
  const ssrfFlagged: string[] = [];
  for (const url of ssrfBenign) if ((await ssrf.check(url)).blocked) ssrfFlagged.push(url);

  t.diagnostic('class | detected (corpus) | detected (hold-out)');
  let allHit = 0;
  let allTotal = 0;
  for (const [cls, row] of rows) {
    const pct = (100 * row.hit) / row.total;
    const hold = row.holdTotal === 0 ? '-' : `${row.holdHit}/${row.holdTotal}`;
    t.diagnostic(`${cls} | ${row.hit}/${row.total} (${pct.toFixed(1)}%) | ${hold}`);
    allHit += row.hit + row.holdHit;
    allTotal += row.total + row.holdTotal;
    assert.ok((row.hit + row.holdHit) / (row.total + row.holdTotal) >= 0.95, `${cls} detection below 95%`);
  }
  const fpRate = (flagged.length + ssrfFlagged.length) / (benign.length + ssrfBenign.length);
  t.diagnostic(`all attacks | ${allHit}/${allTotal} (${((100 * allHit) / allTotal).toFixed(1)}%)`);
  t.diagnostic(
    `benign flagged | ${flagged.length}/${benign.length} text+json, ${ssrfFlagged.length}/${ssrfBenign.length} urls (${(100 * fpRate).toFixed(2)}%)`,
  );
  for (const miss of misses) t.diagnostic(`missed ${miss}`);
  for (const { sample } of flagged) t.diagnostic(`false positive ${JSON.stringify(sample)}`);
  assert.ok(fpRate <= 0.01, `false positives above 1%: ${flagged.map((f) => f.sample).join(' | ')}`);
});
