// Memory, CPUs and disk for the planned VMs.
import type { LabConfig } from '../../config/schema.js';
import type { HostFacts } from '../facts.js';
import { type CheckResult, fail, pass, warn } from '../types.js';

/** Left for the host and the hypervisor: a base plus a little per VM (its process, video memory, caches). */
export const MEMORY_MARGIN_MIB = { base: 1024, perVm: 128 } as const;

export interface Needs {
  vms: number;
  memoryMiB: number;
  vcpus: number;
  largestVmCpus: number;
}

export function needsOf(config: LabConfig): Needs {
  const w = config.workers;
  return {
    vms: 1 + w.count,
    memoryMiB: config.controlPlane.memory + w.count * w.memory,
    vcpus: config.controlPlane.cpus + w.count * w.cpus,
    largestVmCpus: Math.max(config.controlPlane.cpus, w.count > 0 ? w.cpus : 0),
  };
}

const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

export function checkMemory(config: LabConfig, f: HostFacts): CheckResult {
  const n = needsOf(config);
  const withMargin = n.memoryMiB + MEMORY_MARGIN_MIB.base + n.vms * MEMORY_MARGIN_MIB.perVm;
  const free = f.memory.freeMiB;
  const detail = `${n.vms} VMs need ${n.memoryMiB} MiB (${gib(withMargin)} with the host's margin); ${free} MiB available of ${f.memory.totalMiB}`;
  const fix = 'close other programs, or lower workers.count / workers.memory / controlPlane.memory in lab.yaml';
  if (free < n.memoryMiB) return fail('memory', detail, fix);
  if (free < withMargin) return warn('memory', `${detail}: tight, the host may swap`, fix);
  return pass('memory', detail);
}

export function checkCpus(config: LabConfig, f: HostFacts): CheckResult {
  const n = needsOf(config);
  const detail = `${n.vms} VMs with ${n.vcpus} vCPUs in all (largest ${n.largestVmCpus}); the host has ${f.cpus}`;
  if (n.largestVmCpus > f.cpus) {
    return fail('cpus', `${detail}: a VM cannot have more vCPUs than the host`, `lower controlPlane.cpus / workers.cpus to at most ${f.cpus}`);
  }
  if (n.vcpus > f.cpus) {
    return warn('cpus', `${detail}: vCPUs are shared, so the lab runs slower`, 'fine for a lab; lower workers.count if it is too slow');
  }
  return pass('cpus', detail);
}

/** Needs on the same file system add up: the box store, the VM disks and the lab folder often share one. */
export function checkDisk(f: HostFacts): CheckResult[] {
  const byDevice = new Map<number, typeof f.disks>();
  for (const d of f.disks) byDevice.set(d.device, [...(byDevice.get(d.device) ?? []), d]);
  return [...byDevice.values()].map((ds) => {
    const need = ds.reduce((s, d) => s + d.needMiB, 0);
    const free = ds[0]!.freeMiB;
    const where = ds.map((d) => `${d.what} in ${d.path}`).join(', ');
    const detail = `${where}: need about ${gib(need)}, ${gib(free)} free on ${ds[0]!.measuredAt}`;
    return free >= need ? pass('disk', detail) : fail('disk', detail, `free ${gib(need - free)} there, or lower workers.count in lab.yaml`);
  });
}
