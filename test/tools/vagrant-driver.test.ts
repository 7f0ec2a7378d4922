// The Vagrant driver against the real vagrant (Debian's, with vagrant-libvirt): a tools-tier test, since
// the unit tier runs anywhere. The fixture lab has no VMs, so nothing is created.
import { describe, expect, it } from 'vitest';
import { Vagrant } from '../../src/provider/vagrant.js';

describe('Vagrant driver, real vagrant', () => {
  it('runs the real vagrant: version, and the status of a libvirt lab that has no VMs (so the plugin loads)', async () => {
    const v = new Vagrant({ cwd: new URL('../fixtures/vagrant/status-lab', import.meta.url).pathname, provider: 'libvirt' });
    expect(await v.version()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await v.status()).toEqual([
      { name: 'st-m', state: 'not_created', stateHuman: 'not created', provider: 'libvirt' },
      { name: 'st-w1', state: 'not_created', stateHuman: 'not created', provider: 'libvirt' },
    ]);
    expect(await v.sshConfig()).toEqual([]);
  });
});
