import { EventEmitter } from 'node:events';

/**
 * A cheap abort signal for upstream calls (undici accepts any EventEmitter with `aborted`).
 * An AbortController per request costs a DOMException and several listeners; this costs an
 * EventEmitter, and nothing when nobody aborts.
 */
export class UpstreamAbort extends EventEmitter {
  aborted = false;
  reason: 'client_closed' | 'timeout' | undefined;

  abort(reason: 'client_closed' | 'timeout'): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}
