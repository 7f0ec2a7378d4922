// The doctor's verdict on provider: machines, per node, as a pure function of what the probe found.
// Each finding that is not a pass names its fix. Minimums are kubeadm's own preflight checks (2 CPUs
// and 1700 MB on the control plane; unique hostname, MAC and product_uuid: kubeadm's install guide).
import type { MachineNode } from '../../plan/plan.js';
import { type CheckResult, fail, pass, warn } from '../types.js';
import type { MachineFacts } from './probe.js';

/** kubeadm's preflight: NumCPU (control plane) and Mem (1700 MB, control plane). */
export const MIN_CP_CPUS = 2;
export const MIN_CP_MEMORY_MIB = 1700;
/** A worker below this cannot hold the lessons' pods beside kubelet and containerd. */
export const MIN_WORKER_MEMORY_MIB = 900;
/** Images and containers of the lessons: below FAIL pulls stop, below WARN the kubelet evicts. */
export const DISK_FAIL_MIB = 2048;
export const DISK_WARN_MIB = 6144;
/** Certificates and tokens carry times: a node far from the host's clock sees them as not yet valid. */
export const MAX_CLOCK_SKEW_SEC = 5;

export type ProbeOutcome =
  | {
      ok: true;
      facts: MachineFacts;
      /** the host's clock (ms) just before and just after the probe: the machine's reading lies between */
      hostBeforeMs: number;
      hostAfterMs: number;
    }
  | { ok: false; error: string };

export interface MachineProbe {
  node: MachineNode;
  outcome: ProbeOutcome;
}

const sshCommand = (n: MachineNode): string => `ssh -i ${n.keyFile} -p ${n.port} ${n.user}@${n.address}`;

/** kubelet refuses cgroup v1 by default from this minor on (failCgroupV1, KEP-5573). */
export const KUBELET_CGROUP_V1_REFUSED_FROM = 35;

/** `kubernetesMinor`: the lab's (35 for 1.35), which decides whether cgroup v1 needs kubelet's opt-in. */
export function judgeMachines(probes: readonly MachineProbe[], kubernetesMinor?: number): CheckResult[] {
  const out: CheckResult[] = [];
  const reached = probes.flatMap((p) => (p.outcome.ok ? [{ node: p.node, facts: p.outcome.facts }] : []));
  for (const p of probes) {
    const n = p.node;
    const id = (what: string) => `${n.name} ${what}`;
    if (!p.outcome.ok) {
      out.push(
        fail(
          id('ssh'),
          `cannot log in as ${n.user} on ${n.address}:${n.port} with ${n.keyFile}: ${p.outcome.error}`,
          `make \`${sshCommand(n)} true\` work (the machine is up, sshd listens on that port, the key's .pub is in ~${n.user}/.ssh/authorized_keys), or fix machines in lab.yaml`,
        ),
      );
      continue;
    }
    const f = p.outcome.facts;
    out.push(checkLogin(id('ssh'), n, f));
    out.push(checkOs(id('os'), f));
    out.push(...checkResources(id, n, f));
    out.push(checkPrivateIp(id('private-ip'), n, f));
    out.push(checkUnique(id('unique'), n, f, reached.filter((r) => r.node.name !== n.name)));
    out.push(checkPorts(id('ports'), n, f));
    out.push(checkSwap(id('swap'), f));
    out.push(checkCgroups(id('cgroups'), f, kubernetesMinor));
    out.push(checkResolver(id('dns'), f));
    out.push(checkClock(id('clock'), f, p.outcome.hostBeforeMs, p.outcome.hostAfterMs));
  }
  return out;
}

function checkResolver(name: string, f: MachineFacts): CheckResult {
  if (f.resolver === undefined) return warn(name, 'no readable /etc/resolv.conf', 'give the machine a resolv.conf with a nameserver line: CoreDNS forwards outside names to it');
  if (f.resolver.nameservers > 0) return pass(name, `${f.resolver.nameservers} nameserver(s) in ${f.resolver.file}`);
  return fail(
    name,
    `no nameserver in ${f.resolver.file}: CoreDNS forwards outside names to the node's resolvers and does not start without one, so cluster DNS would be down`,
    `add a nameserver line to ${f.resolver.file} (your network's resolver; on an offline network any address the machine reaches will do)`,
  );
}

function checkCgroups(name: string, f: MachineFacts, minor: number | undefined): CheckResult {
  if (f.cgroupFs === undefined) return warn(name, 'could not read the type of /sys/fs/cgroup', 'check that `stat -fc %T /sys/fs/cgroup/` works on the machine');
  if (f.cgroupFs === 'cgroup2fs') return pass(name, 'cgroup v2');
  if (minor === undefined || minor < KUBELET_CGROUP_V1_REFUSED_FROM) return pass(name, `cgroup v1 (${f.cgroupFs} at /sys/fs/cgroup), which kubelet 1.${minor ?? '?'} runs on`);
  return warn(
    name,
    `cgroup v1 (${f.cgroupFs} at /sys/fs/cgroup): kubelet 1.${minor} refuses it unless told; the scripts tell it (failCgroupV1: false) and skip kubeadm's SystemVerification check on this machine`,
    'move the machine to cgroup v2 before Kubernetes drops v1: boot with systemd.unified_cgroup_hierarchy=1 (or a distribution that defaults to it: Debian 11+, Ubuntu 21.10+, EL9)',
  );
}

function checkLogin(name: string, n: MachineNode, f: MachineFacts): CheckResult {
  const who = `${f.user}@${n.address}:${n.port}`;
  switch (f.sudo) {
    case 'root':
      return pass(name, `${who} logs in with the key, as root`);
    case 'ok':
      return pass(name, `${who} logs in with the key; sudo needs no password`);
    case 'password':
      return fail(
        name,
        `${who} logs in, but sudo asks for a password (the scripts run unattended)`,
        `on ${n.name}: \`echo '${f.user} ALL=(ALL) NOPASSWD:ALL' | sudo tee /etc/sudoers.d/k8slab\`, or log in as root (machines.ssh.user: root)`,
      );
    case 'missing':
      return fail(name, `${who} logs in, but is not root and sudo is not installed`, `install sudo on ${n.name} and allow ${f.user} without a password, or log in as root`);
  }
}

function checkOs(name: string, f: MachineFacts): CheckResult {
  const where = f.container ? ` in a ${f.container} system container` : '';
  const archOk = f.arch === 'x86_64' || f.arch === 'aarch64';
  if (!f.os) return fail(name, 'no /etc/os-release: cannot tell the distribution', 'use Ubuntu 22.04/24.04, Debian 12 or Rocky/Alma 9');
  const words = ` ${f.os.id} ${f.os.like} `;
  const family = /\s(debian|ubuntu)\s/.test(words) ? 'apt' : /\s(rhel|fedora|centos)\s/.test(words) ? 'dnf' : undefined;
  const desc = `${f.os.pretty || `${f.os.id} ${f.os.version}`} on ${f.arch || 'an unknown architecture'} (kernel ${f.kernel})${where}`;
  if (!family) return fail(name, `${desc}: not a distribution the scripts know`, 'use Ubuntu 22.04/24.04, Debian 12 or Rocky/Alma 9 (the scripts install with apt or dnf)');
  if (!archOk) return fail(name, `${desc}: containerd and Kubernetes are installed for amd64 or arm64 only`, 'use an x86_64 or aarch64 machine');
  return pass(name, `${desc} (${family})`);
}

function checkResources(id: (what: string) => string, n: MachineNode, f: MachineFacts): CheckResult[] {
  const cp = n.role === 'control-plane';
  const out: CheckResult[] = [];
  const container = f.container ? ' (a container sees its host\'s)' : '';
  if (f.cpus === undefined) out.push(warn(id('cpus'), 'could not count the CPUs (no nproc)', 'check by hand: kubeadm needs 2 on the control plane'));
  else if (cp && f.cpus < MIN_CP_CPUS) out.push(fail(id('cpus'), `${f.cpus} CPU: kubeadm needs ${MIN_CP_CPUS} on the control plane`, `give ${n.name} at least ${MIN_CP_CPUS} CPUs, or use a bigger machine as the control plane`));
  else out.push(pass(id('cpus'), `${f.cpus} CPUs${container}`));

  const minMem = cp ? MIN_CP_MEMORY_MIB : MIN_WORKER_MEMORY_MIB;
  if (f.memMiB === undefined) out.push(warn(id('memory'), 'could not read /proc/meminfo', `check by hand: at least ${minMem} MiB`));
  else if (f.memMiB < minMem) out.push(fail(id('memory'), `${f.memMiB} MiB of memory; ${cp ? `kubeadm needs ${minMem} MiB on the control plane` : `a worker needs about ${minMem} MiB`}`, `give ${n.name} more memory, or use a bigger machine`));
  else out.push(pass(id('memory'), `${f.memMiB} MiB of memory${container}`));

  if (f.disk === undefined) out.push(warn(id('disk'), 'could not measure free disk space (df failed)', `check by hand: ${DISK_WARN_MIB} MiB free under /var/lib`));
  else if (f.disk.freeMiB < DISK_FAIL_MIB) out.push(fail(id('disk'), `${f.disk.freeMiB} MiB free at ${f.disk.path}: too little for the images`, `free at least ${DISK_WARN_MIB} MiB at ${f.disk.path} on ${n.name}`));
  else if (f.disk.freeMiB < DISK_WARN_MIB) out.push(warn(id('disk'), `${f.disk.freeMiB} MiB free at ${f.disk.path}: the kubelet evicts pods when it runs low`, `free at least ${DISK_WARN_MIB} MiB at ${f.disk.path} on ${n.name}`));
  else out.push(pass(id('disk'), `${f.disk.freeMiB} MiB free at ${f.disk.path}`));
  return out;
}

function checkPrivateIp(name: string, n: MachineNode, f: MachineFacts): CheckResult {
  if (f.addresses === undefined) {
    return warn(name, `cannot list the addresses (no \`ip\` command): ${n.privateIp} not checked`, `install iproute2 on ${n.name}`);
  }
  const hit = f.addresses.find((a) => a.address === n.privateIp);
  if (hit) return pass(name, `${n.privateIp} is on ${hit.ifname}`);
  const found = f.addresses.filter((a) => a.ifname !== 'lo').map((a) => `${a.address} (${a.ifname})`);
  return fail(
    name,
    `${n.privateIp}, the address the cluster would use for ${n.name}, is on none of its interfaces${found.length ? `; it has ${found.join(', ')}` : ''}`,
    `give the machine that address, or set its privateIp in lab.yaml's machines block to the address it has (inside network.private)`,
  );
}

interface Reached {
  node: MachineNode;
  facts: MachineFacts;
}

function checkUnique(name: string, n: MachineNode, f: MachineFacts, others: readonly Reached[]): CheckResult {
  const clashes: string[] = [];
  let onlyContainers = true;
  for (const o of others) {
    if (f.hostname && o.facts.hostname.toLowerCase() === f.hostname.toLowerCase()) {
      clashes.push(`hostname ${f.hostname} (also ${o.node.name})`);
      onlyContainers = false;
    }
    for (const m of f.macs) {
      if (m.mac !== '00:00:00:00:00:00' && o.facts.macs.some((x) => x.mac === m.mac)) {
        clashes.push(`MAC ${m.mac} of ${m.ifname} (also ${o.node.name})`);
        onlyContainers = false;
      }
    }
    if (f.productUuid && f.productUuid === o.facts.productUuid) {
      clashes.push(`product_uuid ${f.productUuid} (also ${o.node.name})`);
      if (!f.container || !o.facts.container) onlyContainers = false;
    }
  }
  if (clashes.length === 0) {
    const uuid = f.productUuid ? `product_uuid ${f.productUuid}` : 'product_uuid unreadable';
    return pass(name, `hostname ${f.hostname}, ${f.macs.length} MAC(s), ${uuid}: none shared with another node`);
  }
  if (onlyContainers) {
    // System containers read their host's DMI: every one has the same product_uuid, and kubeadm does not check it.
    return warn(name, `shares ${clashes.join(', ')}: system containers see their host's product_uuid`, 'nothing to do for a test lab; kubelet reports the same system UUID for these nodes');
  }
  return fail(name, `shares ${clashes.join(', ')}; kubeadm needs each node's to be unique`, 'clone machines with a new hostname, MAC and machine identity (e.g. `hostnamectl set-hostname`, a new MAC in the hypervisor)');
}

function checkPorts(name: string, n: MachineNode, f: MachineFacts): CheckResult {
  const wanted = n.role === 'control-plane' ? [6443, 10250] : [10250];
  if (f.listening === undefined) return warn(name, `cannot list listening ports (no \`ss\`): ${wanted.join(', ')} not checked`, `install iproute2 on ${n.name}`);
  const busy = wanted.filter((p) => f.listening!.includes(p));
  if (busy.length === 0) return pass(name, `${wanted.join(' and ')} free`);
  if (f.provisionedByK8slab) return pass(name, `${busy.join(' and ')} in use by the lab's own Kubernetes (an earlier \`up\`)`);
  return fail(
    name,
    `something already listens on ${busy.join(' and ')} (another Kubernetes?)`,
    `on ${n.name}: find it with \`sudo ss -ltnp '( sport = :${busy[0]} )'\` and stop it, or use another machine`,
  );
}

function checkSwap(name: string, f: MachineFacts): CheckResult {
  if (f.swapMiB === undefined || f.swapMiB === 0) return pass(name, 'no swap');
  if (f.container) {
    return warn(name, `${f.swapMiB} MiB of swap, which a ${f.container} container cannot turn off`, 'turn swap off on the container\'s host (`swapoff -a`), or the kubelet refuses to start');
  }
  return warn(name, `${f.swapMiB} MiB of swap is on`, 'nothing to do: config.sh turns it off, now and after reboots (kubelet refuses swap)');
}

function checkClock(name: string, f: MachineFacts, beforeMs: number, afterMs: number): CheckResult {
  if (f.nowSec === undefined) return warn(name, 'could not read the clock', 'check that `date +%s` works');
  // The machine read its clock somewhere between the two host readings; `date +%s` drops up to 1 s.
  const earliest = beforeMs / 1000 - 1;
  const latest = afterMs / 1000;
  const skew = f.nowSec < earliest ? f.nowSec - earliest : f.nowSec > latest ? f.nowSec - latest : 0;
  const abs = Math.abs(Math.round(skew));
  if (abs <= MAX_CLOCK_SKEW_SEC) return pass(name, abs === 0 ? 'in step with the host' : `${abs} s from the host's clock`);
  return fail(
    name,
    `${abs} s ${skew > 0 ? 'ahead of' : 'behind'} the host's clock: certificates would look not yet valid or expired`,
    'sync the clock (`timedatectl set-ntp true`, or chrony/ntp) on the machine and on the host',
  );
}
