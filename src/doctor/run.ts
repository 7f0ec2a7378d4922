// The doctor: gather the host's facts once, judge them, report.
import { parseK8sVersion } from '../config/versions.js';
import { basename } from 'node:path';
import type { LabConfig } from '../config/schema.js';
import { checkCpus, checkDisk, checkMemory } from './checks/resources.js';
import { checkHostNetwork, ownLibvirtNetworkNames } from './checks/host-network.js';
import { checkBox, checkKvm, checkKvmModules, checkLibvirt, checkVagrant, checkVirtualBox } from './checks/tools.js';
import { checkCourseNetwork, checkVboxNetworks } from './checks/vbox-networks.js';
import { checkKubernetesVersion } from './checks/versions.js';
import { gatherFacts, type GatherOptions, type HostFacts } from './facts.js';
import type { Host } from './host.js';
import type { CheckResult } from './types.js';
import { doctorMachines, type GatherDeps } from './machines/gather.js';
import { realMachineDeps } from './machines/ssh.js';
import { machineNodes } from '../plan/plan.js';

/** Every check, in report order, as a pure function of the config and the facts. */
export function judge(config: LabConfig, facts: HostFacts, labDir: string): CheckResult[] {
  return [
    checkVagrant(facts),
    ...(config.provider === 'virtualbox' ? [checkVirtualBox(facts)] : []),
    ...checkKvmModules(config, facts),
    ...checkVboxNetworks(config, facts),
    ...checkCourseNetwork(config),
    ...checkLibvirt(facts),
    ...checkKvm(config, facts),
    ...checkBox(config, facts),
    ...checkHostNetwork(config, facts, ownLibvirtNetworkNames(config, basename(labDir))),
    checkMemory(config, facts),
    checkCpus(config, facts),
    ...checkDisk(facts),
    ...checkKubernetesVersion(config, facts),
  ];
}

export async function runDoctor(config: LabConfig, host: Host, opts: GatherOptions & { machines?: GatherDeps }): Promise<CheckResult[]> {
  // provider: machines: the host needs no Vagrant; each machine is probed over SSH instead.
  if (config.provider === 'machines') {
    const today = host.now().toISOString().slice(0, 10);
    return [...checkKubernetesVersion(config, { today }), ...(await doctorMachines(machineNodes(config), opts.machines ?? realMachineDeps, parseK8sVersion(config.kubernetes.version)?.minor))];
  }
  return judge(config, await gatherFacts(config, host, opts), opts.labDir);
}

export const hasFailure = (results: readonly CheckResult[]): boolean => results.some((r) => r.status === 'fail');
