// Failure classification, fed with the error output the real vagrant printed on the testbed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyVagrantFailure } from '../../src/provider/errors.js';
import { Vagrant } from '../../src/provider/vagrant.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vagrant/${name}`, import.meta.url), 'utf8');
const failed = (file: string, provider = 'libvirt') =>
  classifyVagrantFailure({ command: 'vagrant up', exitCode: 1, stdout: fixture(file), stderr: '', provider, logDir: '/lab/logs' });

describe('classifyVagrantFailure', () => {
  it('box missing: names the box and says how to add it', () => {
    const e = failed('up-box-missing.txt');
    expect(e.kind).toBe('box-missing');
    expect(e.errorKind).toBe('environment');
    expect(e.message).toContain("box 'k8slab/debian12'");
    expect(e.hint).toContain('vagrant box add k8slab/debian12 --provider libvirt');
    expect(e.vagrantClass).toBe('Vagrant::Errors::BoxAddShortNotFound');
  });

  it('provider plugin missing (vagrant-libvirt not loaded)', () => {
    const e = failed('up-provider-not-found.txt');
    expect(e.kind).toBe('provider-missing');
    expect(e.errorKind).toBe('environment');
    expect(e.hint).toContain('vagrant-libvirt');
  });

  it('provider not usable (no VirtualBox on the host)', () => {
    const e = failed('up-provider-not-usable.txt', 'virtualbox');
    expect(e.kind).toBe('provider-missing');
    expect(e.message).toContain('Vagrant could not detect VirtualBox');
    expect(e.hint).toContain('VBoxManage');
  });

  it('SSH timeout after boot (boot_timeout reached)', () => {
    const e = failed('up-boot-timeout.txt');
    expect(e.kind).toBe('ssh-timeout');
    expect(e.message).toContain('(logs: /lab/logs)');
    expect(e.hint).toMatch(/resumes/);
  });

  it('port clash (VirtualBox forwarded port in use)', () => {
    const e = failed('up-port-collision.txt', 'virtualbox');
    expect(e.kind).toBe('port-clash');
    expect(e.message).toContain('host port 60010');
    expect(e.hint).toContain('controlPlane.sshPort');
  });

  it('an interrupted up (one SIGINT: vagrant cleaned up, then exited 1)', () => {
    const e = failed('up-sigint.txt');
    expect(e.kind).toBe('interrupted');
    expect(e.errorKind).toBe('interrupted');
  });

  it('VM failed to boot (libvirt could not start the domain)', () => {
    const e = classifyVagrantFailure({
      command: 'vagrant up',
      exitCode: 1,
      stdout:
        '1795353500,,error-exit,VagrantPlugins::ProviderLibvirt::Errors::DomainStartError,Failed to start domain: internal error: qemu unexpectedly closed the monitor\n',
      stderr: '',
      provider: 'libvirt',
    });
    expect(e.kind).toBe('boot-failed');
    expect(e.hint).toContain('virsh list --all');
  });

  it('VirtualBox refused by KVM (Linux 6.12+): VERR_VMX_IN_VMX_ROOT_MODE and VERR_SVM_IN_USE name the remedy', () => {
    // The message Vagrant relays from VBoxManage (as in VirtualBox#141 / #711 and the distributions' reports).
    const vboxError = (code: string, text: string) =>
      classifyVagrantFailure({
        command: 'vagrant up --no-provision m-k8s',
        exitCode: 1,
        stdout: `1795353600,,error-exit,Vagrant::Errors::VBoxManageError,There was an error while executing \`VBoxManage\`%!(VAGRANT_COMMA) a CLI used by Vagrant\\nfor controlling VirtualBox. The command and stderr is shown below.\\n\\nCommand: ["startvm"%!(VAGRANT_COMMA) "3d30ffe8"%!(VAGRANT_COMMA) "--type"%!(VAGRANT_COMMA) "headless"]\\n\\nStderr: VBoxManage: error: ${text} (${code})\\nVBoxManage: error: Details: code NS_ERROR_FAILURE (0x80004005)%!(VAGRANT_COMMA) component ConsoleWrap%!(VAGRANT_COMMA) interface IConsole\n`,
        stderr: '',
        provider: 'virtualbox',
      });
    const intel = vboxError('VERR_VMX_IN_VMX_ROOT_MODE', "VirtualBox can't operate in VMX root mode. Please disable the KVM kernel extension%!(VAGRANT_COMMA) recompile your kernel and reboot");
    expect(intel.kind).toBe('boot-failed');
    expect(intel.errorKind).toBe('environment');
    expect(intel.message).toBe('VirtualBox cannot use hardware virtualization: KVM holds it (VERR_VMX_IN_VMX_ROOT_MODE)');
    expect(intel.hint).toContain('sudo modprobe -r kvm_intel kvm');
    const amd = vboxError('VERR_SVM_IN_USE', "VirtualBox can't enable the AMD-V extension. Please disable the KVM kernel extension%!(VAGRANT_COMMA) recompile your kernel and reboot");
    expect(amd.message).toContain('(VERR_SVM_IN_USE)');
    expect(amd.hint).toContain('provider: libvirt');
  });

  it('anything else keeps vagrant\'s own message', () => {
    const e = failed('snapshot-restore-missing.txt');
    expect(e.kind).toBe('other');
    expect(e.message).toContain('The snapshot name `nosuch` was not found');
  });
});

describe('Vagrant driver', () => {
  it('vagrant not installed: a clear error, exit code 3', async () => {
    const v = new Vagrant({ cwd: '/', provider: 'libvirt', bin: 'vagrant-does-not-exist-k8slab' });
    const err = await v.status().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-installed', errorKind: 'environment' });
    expect((err as Error).message).toContain('`vagrant` was not found');
  });
});
