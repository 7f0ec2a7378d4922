// Turns a failed `vagrant` run into a UserError that says what went wrong and how to fix it.
// Classification reads the `error-exit` record (Vagrant's error class name) first, and falls back to
// the message text for errors that plugins raise without a stable class.
import { UserError, type ErrorKind } from '../util/errors.js';
import { errorExit, parseMachineReadable } from './machine-readable.js';

export type VagrantFailureKind =
  | 'not-installed'
  | 'provider-missing'
  | 'box-missing'
  | 'boot-failed'
  | 'port-clash'
  | 'ssh-timeout'
  | 'interrupted'
  | 'other';

export class VagrantError extends UserError {
  constructor(
    readonly kind: VagrantFailureKind,
    message: string,
    errorKind: ErrorKind,
    hint: string | undefined,
    /** Vagrant's own message, for logs and `--json` */
    readonly vagrantMessage: string,
    readonly vagrantClass: string,
  ) {
    super(message, errorKind, hint);
    this.name = 'VagrantError';
  }
}

export interface FailedRun {
  /** what we ran, e.g. "vagrant up --no-provision m-k8s" */
  command: string;
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** errno code when vagrant could not be started at all (ENOENT = not installed) */
  spawnError?: string;
  /** the provider the lab uses, for hints */
  provider: string;
  /** where the per-node logs are, for hints */
  logDir?: string;
}

export function classifyVagrantFailure(run: FailedRun): VagrantError {
  const logs = run.logDir ? ` (logs: ${run.logDir})` : '';
  if (run.spawnError === 'ENOENT') {
    return new VagrantError(
      'not-installed',
      '`vagrant` was not found on PATH',
      'environment',
      'install Vagrant (https://developer.hashicorp.com/vagrant/install, or `apt-get install vagrant` on Debian), then run `k8slab doctor`',
      '',
      '',
    );
  }
  const exit = errorExit(parseMachineReadable(run.stdout));
  const cls = exit?.kind ?? '';
  const msg = (exit?.message ?? lastLines(run.stderr || run.stdout)).trim();
  const text = `${msg}\n${run.stderr}`;
  const make = (kind: VagrantFailureKind, what: string, code: ErrorKind, hint: string) =>
    new VagrantError(kind, `${what}${logs}`, code, hint, msg, cls);
  const pluginHint =
    run.provider === 'libvirt'
      ? 'install the vagrant-libvirt plugin (`apt-get install vagrant-libvirt` on Debian, or `vagrant plugin install vagrant-libvirt`) and start libvirtd'
      : 'install VirtualBox and make sure `VBoxManage` is on PATH';

  if (cls === 'Vagrant::Errors::ProviderNotFound' || /provider '[^']+' could not be found/.test(text)) {
    return make('provider-missing', `Vagrant has no '${run.provider}' provider`, 'environment', pluginHint);
  }
  if (cls === 'Vagrant::Errors::ProviderNotUsable' || /isn't usable on this system/.test(text)) {
    return make('provider-missing', `the '${run.provider}' provider is not usable on this host: ${oneLine(msg)}`, 'environment', pluginHint);
  }
  if (/^Vagrant::Errors::Box(AddShortNotFound|NotFound\w*)$/.test(cls) || /box '[^']+' could not be found/i.test(text)) {
    const box = /box '([^']+)'/.exec(text)?.[1] ?? 'the box';
    return make(
      'box-missing',
      `box '${box}' is not installed for ${run.provider} and could not be downloaded`,
      'environment',
      `add it with \`vagrant box add ${box} --provider ${run.provider}\` (or a local .box file), or set box.${run.provider} in lab.yaml to an installed box (\`vagrant box list\`)`,
    );
  }
  if (cls === 'Vagrant::Errors::ForwardPortCollision' || /would collide with some other application/.test(text)) {
    const port = /forwarded port to (\d+)/.exec(text)?.[1];
    return make(
      'port-clash',
      `host port ${port ?? '(unknown)'} that the lab forwards is already in use`,
      'environment',
      'stop what listens there (`ss -ltnp`), or change controlPlane.sshPort / workers.sshPortBase in lab.yaml and run `k8slab up` again',
    );
  }
  if (cls === 'Vagrant::Errors::VMBootTimeout' || /Timed out while waiting for the machine to boot/.test(text) || /^Vagrant::Errors::SSH(ConnectionTimeout|NotReady)$/.test(cls)) {
    return make(
      'ssh-timeout',
      'a VM started but did not answer SSH in time',
      'failed',
      'the host may be overloaded or lack hardware virtualization (KVM/VT-x); check the node log, free CPU/RAM, then run `k8slab up` again (it resumes)',
    );
  }
  // Linux 6.12+ hands VT-x/AMD-V to KVM when its module loads; VirtualBox then cannot start a VM (VirtualBox#141).
  const vmx = /VERR_VMX_IN_VMX_ROOT_MODE|VERR_SVM_IN_USE/.exec(text)?.[0];
  if (vmx !== undefined) {
    return make(
      'boot-failed',
      `VirtualBox cannot use hardware virtualization: KVM holds it (${vmx})`,
      'environment',
      'unload the KVM modules while you use VirtualBox (`sudo modprobe -r kvm_intel kvm`, or kvm_amd; no libvirt/QEMU VM may run), or set `provider: libvirt`; `k8slab doctor` checks this',
    );
  }
  if (
    /ProviderLibvirt::Errors::(NoIpAddressError|DomainStartError|FogCreateServerError|NoDomainError|FogLibvirtConnectionError)/.test(cls) ||
    cls === 'Vagrant::Errors::VMBootBadState' ||
    /failed to remain in the "running" state|Error while creating domain|Call to virDomainCreate/.test(text)
  ) {
    return make(
      'boot-failed',
      `a VM failed to boot: ${oneLine(msg)}`,
      'failed',
      run.provider === 'libvirt'
        ? 'check `virsh list --all` and /var/log/libvirt/qemu/, that libvirtd runs, and that lab.yaml libvirt.driver/cpuMode suit this host (qemu + maximum without KVM)'
        : 'open VirtualBox to see why the VM stopped; check that hardware virtualization is enabled in the BIOS',
    );
  }
  if (cls === 'Vagrant::Errors::VagrantInterrupt' || run.exitCode === 130 || /external interrupt|Exiting immediately/.test(text)) {
    return make('interrupted', `\`${run.command}\` was interrupted`, 'interrupted', 'run the same command again to resume');
  }
  return make(
    'other',
    `\`${run.command}\` failed${run.exitCode === undefined ? '' : ` (exit ${run.exitCode})`}: ${oneLine(msg) || 'no message'}`,
    'failed',
    'read the message above and the logs; `k8slab down` cleans up a half-built lab',
  );
}

/** Vagrant's message on one line; long ones keep their start and their end (where the cause usually is). */
function oneLine(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 160)} ... ${flat.slice(-320)}` : flat;
}

function lastLines(s: string, n = 5): string {
  return s.trim().split('\n').slice(-n).join('\n');
}
