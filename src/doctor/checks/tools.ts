// Vagrant and the provider it drives: present, answering, and versions that work together.
import { boxVersionOf } from '../../config/cross-check.js';
import type { LabConfig } from '../../config/schema.js';
import type { HostFacts } from '../facts.js';
import { type CheckResult, fail, pass, warn } from '../types.js';
import { atLeast } from '../version.js';

/** The Vagrant k8slab's templates are checked with (Debian 12's package). */
export const TESTED_VAGRANT = '2.3.4';

/**
 * Each VirtualBox minor and the first Vagrant release that drives it (Vagrant refuses newer ones).
 * From Vagrant's CHANGELOG: 6.1 in 2.2.7 (GH-11250), 7.0 in 2.3.2 (GH-12947), 7.1 in 2.4.2 (GH-13513),
 * 7.2 in 2.4.9 (GH-13709).
 */
export const VAGRANT_FOR_VIRTUALBOX: Readonly<Record<string, string>> = {
  '6.1': '2.2.7',
  '7.0': '2.3.2',
  '7.1': '2.4.2',
  '7.2': '2.4.9',
};

const INSTALL_VAGRANT = 'install Vagrant (Debian/Ubuntu: `apt install vagrant`; others: https://developer.hashicorp.com/vagrant/install)';

export function checkVagrant(f: HostFacts): CheckResult {
  const v = f.vagrant;
  if (!v.found) return fail('vagrant', 'vagrant is not on PATH', INSTALL_VAGRANT);
  if (v.version === undefined) return fail('vagrant', `vagrant does not run: ${v.error ?? 'no version'}`, `reinstall it: ${INSTALL_VAGRANT}`);
  if (!atLeast(v.version, '2.3.0')) {
    return warn('vagrant', `Vagrant ${v.version} is older than the ${TESTED_VAGRANT} k8slab is tested with`, 'upgrade Vagrant to 2.3 or newer');
  }
  return pass('vagrant', `Vagrant ${v.version}`);
}

/** The VirtualBox minors a Vagrant release drives ("7.0, 7.1 or 7.2"), newest last; all of them without a Vagrant. */
export function virtualBoxFor(vagrant: string | undefined): string[] {
  return Object.entries(VAGRANT_FOR_VIRTUALBOX)
    .filter(([, needs]) => vagrant === undefined || atLeast(vagrant, needs))
    .map(([minor]) => minor);
}

const orList = (xs: readonly string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);

/** "install VirtualBox 7.0, 7.1 or 7.2 (the releases Vagrant 2.4.9 drives)", or what to upgrade when none fits. */
function installVirtualBox(vagrant: string | undefined): string {
  const newest = Object.keys(VAGRANT_FOR_VIRTUALBOX).at(-1)!;
  if (vagrant === undefined) return `install VirtualBox ${newest} with Vagrant ${VAGRANT_FOR_VIRTUALBOX[newest]} or newer`;
  const fits = virtualBoxFor(vagrant);
  return fits.length > 0
    ? `install VirtualBox ${orList(fits)} (the releases Vagrant ${vagrant} drives)`
    : `upgrade Vagrant (${vagrant} drives no VirtualBox k8slab knows), then install VirtualBox ${newest}`;
}

const VBOX_DOWNLOADS = 'https://www.virtualbox.org/wiki/Download_Old_Builds';

export function checkVirtualBox(f: HostFacts): CheckResult {
  const vb = f.virtualbox;
  const vagrant = f.vagrant.version;
  if (!vb) return pass('virtualbox', 'not used (provider: libvirt)');
  if (!vb.found) {
    return fail(
      'virtualbox',
      'VBoxManage is not on PATH: VirtualBox is not installed',
      `${installVirtualBox(vagrant)} from ${VBOX_DOWNLOADS}, or on Linux set \`provider: libvirt\` in lab.yaml`,
    );
  }
  if (vb.version === undefined) return fail('virtualbox', `VBoxManage does not run: ${vb.error ?? 'no version'}`, 'reinstall VirtualBox, then run `VBoxManage --version`');
  const minor = vb.version.split('.').slice(0, 2).join('.');
  const needs = VAGRANT_FOR_VIRTUALBOX[minor];
  if (needs === undefined) {
    return atLeast(vb.version, '6.1.0')
      ? warn('virtualbox', `VirtualBox ${vb.version} is newer than the releases k8slab knows`, `if \`vagrant up\` says the version is unsupported, upgrade Vagrant or ${installVirtualBox(vagrant)}`)
      : fail('virtualbox', `VirtualBox ${vb.version} is too old`, installVirtualBox(vagrant));
  }
  if (vagrant !== undefined && !atLeast(vagrant, needs)) {
    return fail(
      'virtualbox',
      `VirtualBox ${vb.version} needs Vagrant ${needs} or newer; this is Vagrant ${vagrant}, which refuses it`,
      `upgrade Vagrant to ${needs} or newer, or ${installVirtualBox(vagrant)}`,
    );
  }
  return pass('virtualbox', `VirtualBox ${vb.version}`);
}

/** "6.12.3-arch1" >= 6.12? */
function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true; // unknown: assume a current kernel
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/**
 * Linux 6.12+ turns on VT-x/AMD-V when kvm_intel/kvm_amd load (kvm.enable_virt_at_load=1), and VirtualBox
 * then refuses to start a VM: VERR_VMX_IN_VMX_ROOT_MODE / VERR_SVM_IN_USE (VirtualBox#141).
 */
export function checkKvmModules(config: LabConfig, f: HostFacts): CheckResult[] {
  const k = f.kvmModules;
  if (config.provider !== 'virtualbox' || f.platform !== 'linux' || !k) return [];
  const vendor = k.loaded.filter((m) => m === 'kvm_intel' || m === 'kvm_amd');
  const name = 'kvm-modules';
  if (vendor.length === 0) return [pass(name, 'no KVM module is loaded: VirtualBox can use VT-x/AMD-V')];
  const mods = vendor.join(', ');
  const unload = `unload it while you use VirtualBox (\`sudo modprobe -r ${vendor.join(' ')} kvm\`, with no libvirt/QEMU VM running)`;
  if (k.kernel !== undefined && !kernelAtLeast(k.kernel, 6, 12)) {
    return [pass(name, `${mods} is loaded; Linux ${k.kernel} takes VT-x/AMD-V only while a KVM VM runs, so stop those during the lab`)];
  }
  const kernel = k.kernel === undefined ? 'this kernel' : `Linux ${k.kernel}`;
  if (k.virtAtLoad === 'N') {
    return [
      warn(
        name,
        `${mods} is loaded with kvm.enable_virt_at_load=0 (${kernel}): older VirtualBox releases start VMs so, 7.2.10 was reported failing (VirtualBox#711)`,
        `if VMs fail with VERR_VMX_IN_VMX_ROOT_MODE, VERR_SVM_IN_USE or VERR_SVM_HOST_SVME_NOT_ENABLED, ${unload}; or set \`provider: libvirt\``,
      ),
    ];
  }
  return [
    fail(
      name,
      `${mods} is loaded and ${kernel} enables VT-x/AMD-V when KVM loads: VirtualBox VMs will not start (VERR_VMX_IN_VMX_ROOT_MODE / VERR_SVM_IN_USE)`,
      `${unload}; to keep it unloaded at boot, blacklist ${vendor.join(' and ')} in /etc/modprobe.d/; or set \`provider: libvirt\` in lab.yaml`,
    ),
  ];
}

/**
 * The lab's box at its pinned version. A box that is not there yet is only a warning: `vagrant up`
 * downloads it. The warning says what to do if the pinned release has no build for this provider.
 */
export function checkBox(config: LabConfig, f: HostFacts): CheckResult[] {
  if (f.boxes === undefined || config.provider === 'machines') return [];
  const box = config.box[config.provider];
  const provider = config.provider;
  const pinned = boxVersionOf(config);
  const exact = pinned !== undefined && /^\s*=?\s*\d+(\.\d+)*\s*$/.test(pinned) ? pinned.replace(/[=\s]/g, '') : undefined;
  const installed = f.boxes.filter((b) => b.name === box && b.provider === provider).map((b) => b.version);
  const label = `${box}${pinned === undefined ? '' : ` ${pinned}`} (${provider})`;
  // An exact pin must be there itself; for a constraint (">= ...") or no pin, any installed version will do.
  const present = exact === undefined ? installed.length > 0 : installed.includes(exact);
  if (present) return [pass('box', `${label} is installed${exact === undefined ? ` (${installed.join(', ')})` : ''}`)];
  const add = `vagrant box add ${box} --provider ${provider}${pinned === undefined ? '' : ` --box-version '${pinned}'`}`;
  return [
    warn(
      'box',
      `${label} is not installed${installed.length > 0 ? ` (installed: ${installed.join(', ')})` : ''}; \`up\` downloads it`,
      `to fetch it now: \`${add}\`; if Vagrant answers that no version matches, that release has no ${provider} build: set box.version in lab.yaml to one that has`,
    ),
  ];
}

export function checkLibvirt(f: HostFacts): CheckResult[] {
  const lv = f.libvirt;
  if (!lv) return [];
  const out: CheckResult[] = [];
  const d = lv.daemon;
  if (!d.found) {
    out.push(fail('libvirt', 'virsh is not on PATH: libvirt is not installed', 'install it (Debian/Ubuntu: `apt install libvirt-daemon-system libvirt-clients qemu-system-x86`)'));
  } else if (d.version === undefined) {
    out.push(
      fail(
        'libvirt',
        `libvirtd does not answer on qemu:///system: ${d.error ?? ''}`.trim(),
        'start it (`systemctl start libvirtd`, or `libvirtd -d` without systemd) and make sure your user may use it (group libvirt)',
      ),
    );
  } else {
    out.push(pass('libvirt', `libvirtd answers on qemu:///system (hypervisor ${d.version})`));
  }
  const plugins = f.vagrantPlugins ?? [];
  out.push(
    plugins.includes('vagrant-libvirt')
      ? pass('vagrant-libvirt', 'the vagrant-libvirt plugin is installed')
      : fail(
          'vagrant-libvirt',
          f.vagrant.version === undefined ? 'cannot list Vagrant plugins without a working vagrant' : 'the vagrant-libvirt plugin is not installed',
          'install it: `apt install vagrant-libvirt` (Debian/Ubuntu) or `vagrant plugin install vagrant-libvirt`',
        ),
  );
  return out;
}

/** KVM makes libvirt VMs fast; without it only `libvirt.driver: qemu` (software emulation) works. */
export function checkKvm(config: LabConfig, f: HostFacts): CheckResult[] {
  const k = f.kvm;
  if (!k) return [];
  const usable = k.deviceUsable && k.cpuFlag;
  const why = [
    k.cpuFlag ? undefined : 'the CPU shows no vmx/svm flag (hardware virtualization off, or not passed to this VM)',
    k.deviceUsable ? undefined : `${k.devicePath} cannot be opened for reading and writing`,
  ]
    .filter(Boolean)
    .join('; ');
  if (config.libvirt.driver === 'kvm') {
    return [
      usable
        ? pass('kvm', `KVM is usable (${k.devicePath}, vmx/svm)`)
        : fail(
            'kvm',
            `libvirt.driver is kvm but KVM is not usable: ${why}`,
            'enable virtualization in the firmware (or nested virtualization) and load kvm_intel/kvm_amd, add yourself to group kvm; or set `libvirt.driver: qemu` and `libvirt.cpuMode: maximum` in lab.yaml (slow)',
          ),
    ];
  }
  return [
    usable
      ? warn('kvm', 'KVM is usable but libvirt.driver is qemu (software emulation, much slower)', 'set `libvirt.driver: kvm` in lab.yaml')
      : warn('kvm', `KVM is not usable (${why}); libvirt.driver: qemu emulates the CPU in software, so the lab is slow`, 'expect `up` to take much longer; enable hardware virtualization for speed'),
  ];
}
