// Where a row's per-request garbage comes from: V8's sampling heap profiler over one row's gateway
// under wrk load, counting every sampled allocation, also those the scavenger and the
// mark-compactor collected (a plain heap profile shows only what is still alive). Usage:
//   node --import tsx bench/alloc-profile.ts [--row plain] [--duration 5] [--interval 512] [--top 40]
// Prints the sampled bytes allocated per request and the functions that allocated them (self
// size per request). The young generation fills at this rate: fewer bytes, fewer scavenges.
// Asserts nothing. Run `npm run build` first: it profiles dist/.
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { withRowGateway } from './lib/one-row.js';
import { freePort } from './lib/process.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    row: { type: 'string', default: 'plain' },
    duration: { type: 'string', default: '5' },
    /** Mean bytes between samples. */
    interval: { type: 'string', default: '512' },
    top: { type: 'string', default: '40' },
  },
});

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface SampleNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly SampleNode[];
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
class Inspector {
  private next = 0;
  private readonly waiting = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }
  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
    await once(ws, 'open');
    return new Inspector(ws);
  }
  async call<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.next;
    const answer = await new Promise<{ result?: unknown; error?: unknown }>((done) => {
      this.waiting.set(id, done);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
    if (answer.error !== undefined) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
    return answer.result as T;
  }
  close(): void {
    this.ws.close();
  }
}

function frameName(frame: CallFrame): string {
  const where = frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}

async function main(): Promise<void> {
  const inspectPort = await freePort();
  await withRowGateway(
    {
      rowId: values.row,
      main: join(root, 'dist', 'cli', 'main.js'),
      tag: 'alloc',
      nodeArgs: () => [`--inspect=127.0.0.1:${inspectPort}`],
    },
    async ({ row, load }) => {
      await load(3, 50); // JIT warm-up
      const inspector = await Inspector.connect(inspectPort);
      try {
        await inspector.call('HeapProfiler.enable');
        await inspector.call('HeapProfiler.startSampling', {
          samplingInterval: Number(values.interval),
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        const result = await load(Number(values.duration), 50);
        const { profile } = await inspector.call<{ profile: { head: SampleNode } }>(
          'HeapProfiler.stopSampling',
        );
        const bySite = new Map<string, number>();
        let total = 0;
        const visit = (node: SampleNode): void => {
          total += node.selfSize;
          const name = frameName(node.callFrame);
          bySite.set(name, (bySite.get(name) ?? 0) + node.selfSize);
          for (const child of node.children) visit(child);
        };
        visit(profile.head);
        const perRequest = (bytes: number) => (bytes / Math.max(1, result.requests)).toFixed(0).padStart(7);
        console.log(
          `row ${row.id}: ${Math.round(result.rps)} req/s while sampling; ` +
            `${perRequest(total).trim()} bytes allocated per request (sampled every ${values.interval} bytes)\n`,
        );
        console.log('bytes/request  function (self)');
        const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
        for (const [name, bytes] of top) console.log(`${perRequest(bytes)}        ${name}`);
      } finally {
        inspector.close();
      }
    },
  );
}

main().catch((error: unknown) => {
  console.error(`alloc-profile failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
