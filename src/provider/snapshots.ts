// `vagrant snapshot list --machine-readable`: per machine, a "==> NAME: " output header then one
// `ui,detail` record per snapshot name. Machines that are not created print an info line instead.
import { parseMachineReadable } from './machine-readable.js';

export function parseSnapshotList(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of parseMachineReadable(stdout)) {
    if (r.target === '') continue;
    if (r.type === 'metadata') out[r.target] ??= [];
    if (r.type === 'ui' && r.data[0] === 'detail') {
      const name = (r.data[1] ?? '').trim();
      // Vagrant prints "No snapshots have been taken yet!" as a detail/output line on some providers.
      if (name !== '' && !/^No snapshots/i.test(name)) (out[r.target] ??= []).push(name);
    }
  }
  return out;
}
