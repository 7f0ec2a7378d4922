// Image pulls for `bundle create`, with whichever maintained tool the host has. Each saves a docker-archive
// tarball that `ctr -n k8s.io images import` reads.
import { execa } from 'execa';

export type PullTool = 'skopeo' | 'crane';

export async function findPullTool(): Promise<PullTool | undefined> {
  for (const tool of ['skopeo', 'crane'] as const) {
    try {
      await execa(tool, ['--version'], { timeout: 10_000 });
      return tool;
    } catch {
      // not installed; try the next
    }
  }
  return undefined;
}

export function pullArgs(tool: PullTool, ref: string, file: string): string[] {
  return tool === 'skopeo' ? ['copy', `docker://${ref}`, `docker-archive:${file}:${ref}`] : ['pull', ref, file];
}

/** "k8s.gcr.io/kube-apiserver:v1.20.2" -> "kube-apiserver-v1.20.2.tar" */
export function tarballName(ref: string): string {
  const tail = ref.slice(ref.lastIndexOf('/') + 1);
  return `${tail.replace(/[^A-Za-z0-9._-]/g, '-')}.tar`;
}

export async function pullImage(tool: PullTool, ref: string, file: string): Promise<void> {
  await execa(tool, pullArgs(tool, ref, file), { timeout: 900_000 });
}
