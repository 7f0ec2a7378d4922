// The one poll loop: `up` waiting for the API server and for a Ready cluster, and every wait of verify.

export interface PollOptions {
  /** give up after this long; without it, poll until `signal` aborts */
  timeoutMs?: number;
  /** the first pause between probes */
  intervalMs: number;
  /** each pause grows by this factor, up to maxIntervalMs (without both: a fixed interval) */
  backoff?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  /** a probe error that must end the wait at once; any other is kept and the probe runs again */
  fatal?: (err: unknown) => boolean;
  /** runs before each pause: throw to stop waiting (a check whose own time ran out) */
  beforePause?: () => void;
}

/** The wait ran out; `lastError` is the probe's last error, or '' when it only answered "not yet". */
export class PollTimeout extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly lastError: string,
  ) {
    super(`gave up after ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`);
    this.name = 'PollTimeout';
  }
}

/** Runs `probe` until it returns a value other than undefined, and returns that value. */
export async function poll<T>(probe: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
  let interval = o.intervalMs;
  let lastError = '';
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (o.fatal?.(err) || o.signal?.aborted) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + interval > deadline) throw new PollTimeout(o.timeoutMs!, lastError);
    o.beforePause?.();
    await pause(interval, o.signal);
    interval = Math.min(interval * (o.backoff ?? 1), o.maxIntervalMs ?? interval);
  }
}

/** The global setTimeout (not timers/promises'), so tests can drive a wait with fake timers. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
