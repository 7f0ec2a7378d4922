// `down` on provider: machines: the machines stay, and the lab goes from them. teardown.sh (rendered from
// the plan) runs on every machine through stdin, so nothing is left behind to delete, and each machine
// says what is left of the lab on it.
import type { Runner } from '../nodes/node.js';
import type { MachineNode } from '../plan/plan.js';

/** kubeadm reset, image removal and the firewall rewrite take a while on a small machine. */
export const TEARDOWN_TIMEOUT_MS = 10 * 60_000;

export function teardownCommand(purge: boolean): string {
  return purge ? 'bash -s -- --purge' : 'bash -s';
}

/** teardown.sh prints one "leftover: WHAT" line for each trace of the lab it could not remove. */
export function parseLeftovers(stdout: string): string[] {
  return stdout.split('\n').flatMap((l) => (l.startsWith('leftover: ') ? [l.slice('leftover: '.length).trim()] : []));
}

export interface MachineTeardown {
  node: string;
  /** what teardown.sh says is left of the lab; empty when it is clean */
  leftovers: string[];
  /** set when the script could not run or failed for another reason than leftovers */
  error?: string;
}

/** Runs teardown.sh on every machine at once; a machine that fails does not stop the others. */
export async function teardownMachines(
  machines: readonly { node: MachineNode; shell: Runner }[],
  script: string,
  opts: { purge: boolean; signal?: AbortSignal },
): Promise<MachineTeardown[]> {
  return Promise.all(
    machines.map(async ({ node, shell }): Promise<MachineTeardown> => {
      try {
        const r = await shell.run(teardownCommand(opts.purge), {
          input: script,
          sudo: true,
          timeoutMs: TEARDOWN_TIMEOUT_MS,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        const leftovers = parseLeftovers(r.stdout);
        if (r.exitCode === 0 || (r.exitCode === 1 && leftovers.length > 0)) return { node: node.name, leftovers };
        const last = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
        return { node: node.name, leftovers, error: `teardown.sh exited ${r.exitCode}: ${last}` };
      } catch (err) {
        return { node: node.name, leftovers: [], error: (err as Error).message };
      }
    }),
  );
}

/** One line per machine for the `down` report. */
export function describeTeardown(t: MachineTeardown): string {
  if (t.error) return `${t.node}: not cleaned: ${t.error}`;
  return t.leftovers.length === 0 ? `${t.node}: nothing of the lab is left` : `${t.node}: left of the lab: ${t.leftovers.join('; ')}`;
}
