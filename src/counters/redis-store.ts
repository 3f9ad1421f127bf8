import { createHash } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { gcraDecision } from './algorithms.js';
import { GCRA_SCRIPT, INCREMENT_SCRIPT, RESERVE_SCRIPT, WINDOW_SCRIPT } from './redis-scripts.js';
import type { RedisClient } from './redis-client.js';
import {
  CounterStoreUnavailable,
  type CounterStore,
  type Decision,
  type GcraSpec,
  type QuotaCount,
  type Reservation,
  type ReserveSpec,
  type WindowSpec,
} from './types.js';

type Reply = (string | number)[];

/** Longest logical key kept as written; longer ones (header values, ...) are hashed. */
const MAX_PLAIN_KEY = 120;

/** A script and the wire forms of `EVALSHA <sha> 1` and `EVAL <lua> 1` (one key, `argc` arguments). */
class Script {
  readonly sha: string;
  readonly evalshaHead: string;
  readonly evalHead: string;
  /** Connections (sockets) that were sent the script itself with EVAL. */
  readonly loadedOn = new WeakSet<object>();

  constructor(
    readonly lua: string,
    argc: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    this.evalshaHead = `*${4 + argc}\r\n$7\r\nevalsha\r\n$40\r\n${this.sha}\r\n$1\r\n1\r\n`;
    this.evalHead = `*${4 + argc}\r\n$4\r\neval\r\n$${Buffer.byteLength(lua)}\r\n${lua}\r\n$1\r\n1\r\n`;
  }
}

const GCRA = new Script(GCRA_SCRIPT, 3);
const WINDOW = new Script(WINDOW_SCRIPT, 3);
const RESERVE = new Script(RESERVE_SCRIPT, 3);
const INCREMENT = new Script(INCREMENT_SCRIPT, 3);

/** The arguments after the key, as strings and in wire form. */
interface ScriptArgs {
  readonly cost: number;
  readonly values: readonly string[];
  readonly wire: string;
}

function scriptArgs(cost: number, values: readonly (string | number)[]): ScriptArgs {
  const strings = values.map(String);
  return { cost, values: strings, wire: strings.map((v) => `$${Buffer.byteLength(v)}\r\n${v}\r\n`).join('') };
}

const NO_ARGS: never[] = [];
const REPLY_OPTIONS = { replyEncoding: 'utf8' } as const;

/**
 * EVALSHA with its wire form built by the store: the script head and a limit's arguments are
 * constant, only the key (`body` starts with it) is written per call. Like ioredis' own script
 * commands, the first command on each connection is sent as EVAL, which loads the script, so
 * no decision normally meets NOSCRIPT. `args` stay the real arguments: Cluster routes by the key
 * in them.
 */
class ScriptCommand extends Command {
  constructor(
    private readonly script: Script,
    args: string[],
    private readonly body: string,
    /** Send EVAL whatever the connection had (after a NOSCRIPT answer). */
    private readonly reload = false,
  ) {
    // the arguments are strings already: set after construction, they skip Command's
    // flattening and stringifying, which cost ~0.7 µs per command
    super('evalsha', NO_ARGS, REPLY_OPTIONS);
    this.args = args;
  }

  override toWritable(socket: object): string {
    if (!this.reload && this.script.loadedOn.has(socket)) {
      if (this.name === 'eval') {
        // resent (reconnect, Cluster redirect) to a connection that has the script
        this.name = 'evalsha';
        this.args[0] = this.script.sha;
      }
      return this.script.evalshaHead + this.body;
    }
    this.script.loadedOn.add(socket);
    this.name = 'eval';
    this.args[0] = this.script.lua;
    return this.script.evalHead + this.body;
  }
}

/**
 * Counters in Redis: every decision is one EVALSHA touching one key, so one round trip (after a
 * `NOSCRIPT`, one EVAL loads the script again); the key is wrapped in a hash tag so it maps to a
 * single Cluster slot. Every failure rejects with CounterStoreUnavailable.
 */
export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis' as const;
  /** Script arguments by spec object (specs are built once per limit at config load). */
  private readonly argsBySpec = new WeakMap<object, ScriptArgs>();
  /** Commands were sent in this event-loop turn (`endTurn` is scheduled). */
  private inTurn = false;
  /** The socket corked for this turn (standalone and Sentinel clients). */
  private corked: Redis['stream'] | undefined;
  /** This turn's shared deadline, when the store times its commands out itself. */
  private turn: Turn | undefined;
  private readonly endTurn = (): void => {
    this.inTurn = false;
    const stream = this.corked;
    this.corked = undefined;
    stream?.uncork();
    const turn = this.turn;
    this.turn = undefined;
    turn?.end();
  };

  /**
   * `commandTimeoutMs`: the store times its own commands out, one timer per event-loop turn
   * (create the client with the `counters` role, which sets no ioredis `commandTimeout`, one
   * timer per command). Without it, the client's own `commandTimeout` applies.
   */
  constructor(
    readonly client: RedisClient,
    private readonly keyPrefix = 'portcullis:',
    private readonly ownsClient = true,
    private readonly commandTimeoutMs?: number,
  ) {}

  /** The Redis key for a logical key: `prefix{key}` (one slot), long keys hashed. */
  redisKey(key: string): string {
    const plain =
      key.length <= MAX_PLAIN_KEY && !/[{}\s]/.test(key)
        ? key
        : 'h:' + createHash('sha256').update(key).digest('base64url');
    return `${this.keyPrefix}{${plain}}`;
  }

  gcra(key: string, spec: GcraSpec, cost: number): Promise<Decision> {
    let args = this.argsBySpec.get(spec);
    if (args === undefined || args.cost !== cost) {
      args = scriptArgs(cost, [spec.emissionMs, spec.burst, cost]);
      this.argsBySpec.set(spec, args);
    }
    return this.run(GCRA, key, args, (reply) => gcraDecision(Number(reply) / 1000, spec, cost));
  }

  slidingWindow(key: string, spec: WindowSpec, cost: number): Promise<Decision> {
    let args = this.argsBySpec.get(spec);
    if (args === undefined || args.cost !== cost) {
      args = scriptArgs(cost, [spec.windowMs, spec.limit, cost]);
      this.argsBySpec.set(spec, args);
    }
    return this.run(WINDOW, key, args, toDecision);
  }

  reserve(key: string, spec: ReserveSpec): Promise<Reservation> {
    let args = this.argsBySpec.get(spec);
    if (args === undefined) {
      args = scriptArgs(0, [spec.emissionMs, spec.burst, spec.delayFree]);
      this.argsBySpec.set(spec, args);
    }
    return this.run(RESERVE, key, args, (reply) => {
      const r = reply as Reply;
      return { allowed: r[0] === 1, delayMs: Number(r[1]), retryAfterMs: Number(r[2]) };
    });
  }

  increment(key: string, cost: number, limit: number, ttlMs: number): Promise<QuotaCount> {
    const args = scriptArgs(cost, [cost, limit, Math.max(1, Math.ceil(ttlMs))]);
    return this.run(INCREMENT, key, args, (reply) => {
      const r = reply as Reply;
      return { allowed: r[0] === 1, count: Number(r[1]) };
    });
  }

  count(key: string): Promise<number> {
    return this.send(new Command('get', [this.redisKey(key)], REPLY_OPTIONS), 'redis read failed').then(
      (value) => (value === null ? 0 : Number(value)),
    );
  }

  delete(key: string): Promise<void> {
    return this.send(new Command('del', [this.redisKey(key)], REPLY_OPTIONS), 'redis delete failed').then(
      () => undefined,
    );
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    // a deliberate close is not an outage: drop the listeners that report one
    this.client.removeAllListeners('close');
    this.client.removeAllListeners('error');
    this.client.on('error', () => undefined);
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** One EVALSHA; a NOSCRIPT answer (script cache flushed, failover) is retried once as EVAL. */
  private run<T>(script: Script, key: string, args: ScriptArgs, decode: (reply: unknown) => T): Promise<T> {
    const redisKey = this.redisKey(key);
    const body = `$${Buffer.byteLength(redisKey)}\r\n${redisKey}\r\n${args.wire}`;
    const values = [script.sha, '1', redisKey, ...args.values];
    const command = new ScriptCommand(script, values, body);
    const turn = this.begin();
    turn?.add(command);
    const sent = this.client.sendCommand(command) as Promise<unknown>;
    return sent.then(
      (reply) => {
        turn?.settle();
        return decode(reply);
      },
      (error: unknown) => {
        turn?.settle();
        if (!(error instanceof Error && error.message.includes('NOSCRIPT'))) throw unavailable(error);
        const reload = new ScriptCommand(script, [script.sha, '1', redisKey, ...args.values], body, true);
        return this.send(reload, 'redis decision failed').then(decode);
      },
    );
  }

  /** Sends one command in this turn; any failure rejects with CounterStoreUnavailable. */
  private send(command: Command, failure: string): Promise<unknown> {
    const turn = this.begin();
    turn?.add(command);
    return (this.client.sendCommand(command) as Promise<unknown>).then(
      (reply) => {
        turn?.settle();
        return reply;
      },
      (error: unknown) => {
        turn?.settle();
        throw unavailable(error, failure);
      },
    );
  }

  /**
   * The first command of an event-loop turn corks a standalone (or Sentinel) connection until
   * the turn ends: the decisions of all the requests read in one poll phase then leave in one
   * write instead of one write (syscall) each. Still one EVALSHA per decision, and nothing waits
   * for earlier replies. It also opens the turn's shared deadline.
   */
  private begin(): Turn | undefined {
    if (this.inTurn) return this.turn;
    this.inTurn = true;
    setImmediate(this.endTurn);
    if (this.client instanceof Redis && this.client.status === 'ready' && this.client.stream !== undefined) {
      this.corked = this.client.stream;
      this.corked.cork();
    }
    if (this.commandTimeoutMs !== undefined) this.turn = new Turn(this.commandTimeoutMs);
    return this.turn;
  }
}

/**
 * The commands a store sends in one event-loop turn share one deadline, `timeoutMs` after the
 * first of them: one timer per turn instead of one per command. A command not answered by then
 * is rejected like an ioredis command timeout; once all are answered the timer is cleared.
 */
class Turn {
  private readonly commands: Command[] = [];
  private open = 0;
  private ended = false;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.timer = setTimeout(() => this.expire(), timeoutMs);
  }

  add(command: Command): void {
    this.commands.push(command);
    this.open++;
  }

  settle(): void {
    if (--this.open === 0 && this.ended) this.finish();
  }

  end(): void {
    this.ended = true;
    if (this.open === 0) this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.commands.length = 0;
  }

  private expire(): void {
    const commands = this.commands.splice(0);
    for (const command of commands) {
      if (!command.isSettled) command.reject(new Error('Command timed out'));
    }
  }
}

function unavailable(cause: unknown, message = 'redis decision failed'): CounterStoreUnavailable {
  return new CounterStoreUnavailable(message, { cause });
}

function toDecision(reply: unknown): Decision {
  const r = reply as Reply;
  return {
    allowed: r[0] === 1,
    remaining: Number(r[1]),
    retryAfterMs: Number(r[2]),
    resetMs: Number(r[3]),
  };
}
