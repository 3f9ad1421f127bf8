import type { RequestContext } from '../pipeline/context.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';

/** Key of the release function in `ctx.state`; the log-phase stage calls it. */
export const CONCURRENCY_STATE = 'traffic.concurrency';

/**
 * Ties a granted slot to the request's lifetime: released once, by whichever comes first, the
 * log phase (response finished) or the connection / HTTP/2 stream closing (client abort).
 */
export function holdSlot(ctx: RequestContext, limiter: ConcurrencyLimiter): void {
  const req = ctx.req as RequestContext['req'] & { stream?: NodeJS.EventEmitter };
  const emitter: NodeJS.EventEmitter | undefined = req.stream ?? req.socket ?? undefined;
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    emitter?.removeListener('close', release);
    limiter.release();
  };
  emitter?.once('close', release);
  ctx.state.set(CONCURRENCY_STATE, release);
  if (
    req.destroyed === true &&
    emitter !== undefined &&
    (emitter as { destroyed?: boolean }).destroyed === true
  )
    release();
}

export function releaseSlot(ctx: RequestContext): void {
  const release = ctx.state.get(CONCURRENCY_STATE);
  if (typeof release === 'function') (release as () => void)();
}
