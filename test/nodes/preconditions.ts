// What the node tier needs of the host, as one reason it cannot run (or undefined). The machines are
// built for a hybrid cgroup v1 host: nspawn delegates the v1 controllers, which kubelet 1.20 uses.
import { existsSync } from 'node:fs';
import { cgroupHierarchies } from './host.js';

export function nodeTierUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, mounts, cgroups, a bridge)';
  for (const tool of ['/usr/bin/systemd-nspawn', '/usr/sbin/debootstrap']) {
    if (!existsSync(tool)) return `${tool} is missing: run test/nodes/machine/host-deps.sh (npm run test:nodes does)`;
  }
  const v1 = cgroupHierarchies().filter((h) => /\/(memory|cpuset|pids)$/.test(h));
  if (v1.length < 3) return 'needs cgroup v1 memory, cpuset and pids hierarchies under /sys/fs/cgroup (a hybrid cgroup v1 host)';
  return undefined;
}
