// Every kubectl command of a check runs in the lesson's namespace unless kubectl's own flags name one. The
// command of an exec is not kubectl's: `ls -A` in a pod once sent `kubectl exec` to the default namespace
// (volumes/emptydir-gone-with-pod failed on a real cluster with 'pods "pod-volume-1" not found').
import { describe, expect, it } from 'vitest';
import type { Executor } from '../../src/lessons/types.js';
import { testContext } from '../lesson-context.js';

function recording(): Executor & { calls: string[] } {
  const calls: string[] = [];
  return { name: 'recording', calls, run: async (command) => (calls.push(command), { exitCode: 0, stdout: '', stderr: '' }) };
}

describe("the lesson's namespace on kubectl commands", () => {
  it('is added to an exec whose command has -A or -n of its own', async () => {
    const exec = recording();
    const ctx = testContext({ ns: 'k8slab-volumes', executor: exec });
    await ctx.exec('pod-volume-1', ['ls', '-A', '/mount1'], { container: 'container1' });
    await ctx.exec('nettool', ['sh', '-c', 'nslookup -n x'], {});
    expect(exec.calls).toEqual(["kubectl -n k8slab-volumes exec pod-volume-1 -c container1 -- ls -A /mount1", "kubectl -n k8slab-volumes exec nettool -- sh -c 'nslookup -n x'"]);
  });

  it("is left out when kubectl's own flags name a namespace, or all of them", async () => {
    const exec = recording();
    const ctx = testContext({ ns: 'k8slab-volumes', executor: exec });
    await ctx.kubectl(['get', 'pods', '-A']);
    await ctx.kubectl(['-n', 'kube-system', 'get', 'pods']);
    await ctx.kubectl(['get', 'pods', '--namespace=kube-system']);
    expect(exec.calls).toEqual(['kubectl get pods -A', 'kubectl -n kube-system get pods', 'kubectl get pods --namespace=kube-system']);
  });
});
