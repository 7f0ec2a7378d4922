// Vagrant and the provider it drives: present, answering, and versions that work together.
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

export function checkVirtualBox(f: HostFacts): CheckResult {
  const vb = f.virtualbox;
  if (!vb) return pass('virtualbox', 'not used (provider: libvirt)');
  if (!vb.found) {
    return fail(
      'virtualbox',
      'VBoxManage is not on PATH: VirtualBox is not installed',
      'install VirtualBox 7 (https://www.virtualbox.org/wiki/Downloads), or on Linux set `provider: libvirt` in lab.yaml',
    );
  }
  if (vb.version === undefined) return fail('virtualbox', `VBoxManage does not run: ${vb.error ?? 'no version'}`, 'reinstall VirtualBox, then run `VBoxManage --version`');
  const minor = vb.version.split('.').slice(0, 2).join('.');
  const needs = VAGRANT_FOR_VIRTUALBOX[minor];
  const vagrant = f.vagrant.version;
  if (needs === undefined) {
    return atLeast(vb.version, '6.1.0')
      ? warn('virtualbox', `VirtualBox ${vb.version} is newer than the releases k8slab knows`, 'if `vagrant up` says the version is unsupported, upgrade Vagrant or install VirtualBox 7.1')
      : fail('virtualbox', `VirtualBox ${vb.version} is too old`, 'install VirtualBox 7');
  }
  if (vagrant !== undefined && !atLeast(vagrant, needs)) {
    return fail(
      'virtualbox',
      `VirtualBox ${vb.version} needs Vagrant ${needs} or newer; this is Vagrant ${vagrant}, which refuses it`,
      `upgrade Vagrant to ${needs} or newer, or install a VirtualBox that Vagrant ${vagrant} supports`,
    );
  }
  return pass('virtualbox', `VirtualBox ${vb.version}`);
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
