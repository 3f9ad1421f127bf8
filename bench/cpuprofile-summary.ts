// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and self time by
// module (project file, package, node internal, GC/idle). Usage:
//   node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [--top 30] [--skip-ms 3000]
//   ... FILE.cpuprofile --callers DOMException [--depth 6]   (who calls a hot function)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
export interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Entry {
  readonly name: string;
  readonly us: number;
  readonly share: number;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.search(/\/(dist|src|bench)\//);
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '')
    return functionName === '' ? '(anonymous native)' : `(${functionName.replace(/^\(|\)$/g, '')})`;
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  return shortUrl(url);
}

/**
 * Self time per function and per module, in microseconds, largest first. Samples in the first
 * `skipMs` of the profile (start-up, config compile) are left out.
 */
export function summariseProfile(
  profile: Profile,
  skipMs = 0,
): { total: number; functions: Entry[]; modules: Entry[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  const from = profile.startTime + skipMs * 1000;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const mod = moduleOf(frame);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    total += us;
  }
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, us]) => ({ name, us, share: us / total })).sort((a, b) => b.us - a.us);
  return { total, functions: sorted(functions), modules: sorted(modules) };
}

/** Busy time (without idle) of the profile, for "share of busy CPU" figures. */
export function renderSummary(profile: Profile, top: number, skipMs = 0): string {
  const { total, functions, modules } = summariseProfile(profile, skipMs);
  const idle = functions.filter((f) => f.name.startsWith('(idle)')).reduce((s, f) => s + f.us, 0);
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
  const lines = [
    `profile: ${(total / 1e6).toFixed(2)} s sampled${skipMs > 0 ? ` (first ${skipMs} ms skipped)` : ''}, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy time)`,
    '',
    '| self % | self ms | function |',
    '|---:|---:|---|',
    ...functions
      .filter((f) => !f.name.startsWith('(idle)'))
      .slice(0, top)
      .map((f) => `| ${pct(f.us)} | ${(f.us / 1000).toFixed(0)} | \`${f.name}\` |`),
    '',
    '| self % | self ms | module |',
    '|---:|---:|---|',
    ...modules
      .filter((m) => m.name !== '(idle)')
      .slice(0, top)
      .map((m) => `| ${pct(m.us)} | ${(m.us / 1000).toFixed(0)} | ${m.name} |`),
  ];
  return lines.join('\n');
}

/** Stacks (up to `depth` frames) leading to functions whose name contains `needle`, by self time. */
export function callers(profile: Profile, needle: string, depth = 6, skipMs = 0): Entry[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stacks = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  const from = profile.startTime + skipMs * 1000;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) return;
    total += delta;
    const node = byId.get(id) as ProfileNode;
    if (!node.callFrame.functionName.includes(needle)) return;
    const frames: string[] = [];
    for (
      let cur: number | undefined = id;
      cur !== undefined && frames.length < depth;
      cur = parent.get(cur)
    ) {
      const f = (byId.get(cur) as ProfileNode).callFrame;
      frames.push(
        `${f.functionName || '(anonymous)'}${f.url === '' ? '' : ` ${shortUrl(f.url)}:${f.lineNumber + 1}`}`,
      );
    }
    const key = frames.join(' <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + delta);
  });
  return [...stacks].map(([name, us]) => ({ name, us, share: us / total })).sort((a, b) => b.us - a.us);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '30' },
      'skip-ms': { type: 'string', default: '0' },
      callers: { type: 'string' },
      depth: { type: 'string', default: '6' },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: cpuprofile-summary FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const skipMs = Number(values['skip-ms']);
  if (values.callers !== undefined) {
    for (const e of callers(profile, values.callers, Number(values.depth), skipMs).slice(
      0,
      Number(values.top),
    )) {
      console.log(`${(e.us / 1000).toFixed(0).padStart(6)} ms  ${e.name}`);
    }
  } else {
    console.log(renderSummary(profile, Number(values.top), skipMs));
  }
}
