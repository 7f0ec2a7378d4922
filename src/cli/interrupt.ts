// Ctrl-C handling for long commands: the first SIGINT/SIGTERM aborts the shared AbortSignal (children get
// one SIGINT, SSH channels close, the phase is recorded as interrupted); a second one exits at once.
import { EXIT } from './exit-codes.js';

export async function withInterrupt<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  onFirst: () => void = () => process.stderr.write('\nstopping (Ctrl-C again to quit at once)...\n'),
): Promise<T> {
  const ac = new AbortController();
  let count = 0;
  const handler = () => {
    count += 1;
    if (count === 1) {
      onFirst();
      ac.abort();
    } else {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
