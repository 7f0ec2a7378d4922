// Parsers of `vagrant --machine-readable` output, fed with output captured from the real vagrant
// on the testbed (test/fixtures/vagrant/README.md says how each file was made).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorExit, parseLine, parseMachineReadable } from '../../src/provider/machine-readable.js';
import { LineSplitter } from '../../src/util/lines.js';
import {
  parseBoxList,
  parseSshConfig,
  parseSshConfigRecords,
  parseStatus,
} from '../../src/provider/parsers.js';
import { parseSnapshotList } from '../../src/provider/snapshots.js';
import { stepOf } from '../../src/provider/vagrant.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vagrant/${name}`, import.meta.url), 'utf8');

describe('machine-readable lines', () => {
  it('splits timestamp, target, type and data, and unescapes commas and newlines', () => {
    const rec = parseLine('1795353197,vagrant-libvirt,plugin-version,0.11.2%!(VAGRANT_COMMA) system');
    expect(rec).toEqual({ timestamp: 1795353197, target: 'vagrant-libvirt', type: 'plugin-version', data: ['0.11.2, system'] });
    const ui = parseLine('1795353195,,ui,info,Current machine states:\\n\\ncap-m   not created');
    expect(ui?.target).toBe('');
    expect(ui?.data).toEqual(['info', 'Current machine states:\n\ncap-m   not created']);
  });

  it('ignores lines that are not records', () => {
    expect(parseLine('')).toBeUndefined();
    expect(parseLine('Vagrant 2.3.4')).toBeUndefined();
    expect(parseMachineReadable('noise\n1,,ui,info,x\n')).toHaveLength(1);
  });

  it('reassembles records split across stream chunks', () => {
    const s = new LineSplitter();
    expect(s.push('1795353240,cap-m,ui,info,==> cap-m: Star')).toEqual([]);
    expect(s.push('ting domain.\n1795353241,cap-m,ui')).toEqual(['1795353240,cap-m,ui,info,==> cap-m: Starting domain.']);
    expect(s.flush()).toEqual(['1795353241,cap-m,ui']);
  });

  it('finds the error class and message of a failed run', () => {
    const e = errorExit(parseMachineReadable(fixture('up-box-missing.txt')));
    expect(e?.kind).toBe('Vagrant::Errors::BoxAddShortNotFound');
    expect(e?.message).toMatch(/^The box 'k8slab\/debian12' could not be found or\ncould not be accessed/);
    expect(e?.message).toContain("Vagrant Cloud, please verify"); // the escaped comma came back
  });
});

describe('vagrant status', () => {
  it('reads not-created machines of a 2-VM lab', () => {
    expect(parseStatus(fixture('status-not-created.txt'))).toEqual([
      { name: 'cap-m', state: 'not_created', stateHuman: 'not created', provider: 'libvirt' },
      { name: 'cap-w1', state: 'not_created', stateHuman: 'not created', provider: 'libvirt' },
    ]);
  });

  it('reads running and halted (libvirt: shutoff) machines', () => {
    expect(parseStatus(fixture('status-running.txt')).map((m) => [m.name, m.state])).toEqual([
      ['cap-m', 'running'],
      ['cap-w1', 'not_created'],
    ]);
    expect(parseStatus(fixture('status-halted.txt')).find((m) => m.name === 'cap-m')?.state).toBe('shutoff');
  });
});

describe('vagrant ssh-config', () => {
  const expected = {
    name: 'cap-m',
    host: '192.168.121.118',
    port: 22,
    user: 'vagrant',
    identityFile: '/tmp/vcap/.vagrant/machines/cap-m/libvirt/private_key',
  };

  it('reads the machine-readable form (one record per machine)', () => {
    const [entry, ...rest] = parseSshConfigRecords(fixture('ssh-config.txt'));
    expect(rest).toEqual([]);
    expect(entry).toMatchObject(expected);
    expect(entry?.options.stricthostkeychecking).toBe('no');
  });

  it('reads the plain OpenSSH form, with quoted values and several hosts', () => {
    expect(parseSshConfig(fixture('ssh-config-plain.txt'))).toMatchObject([expected]);
    const two = parseSshConfig(
      'Host a\n  HostName 127.0.0.1\n  Port 2222\n  IdentityFile "/home/x y/key"\n\nHost b\n  HostName 10.0.0.2\n',
    );
    expect(two.map((e) => [e.name, e.host, e.port, e.identityFile])).toEqual([
      ['a', '127.0.0.1', 2222, '/home/x y/key'],
      ['b', '10.0.0.2', 22, ''],
    ]);
  });
});

describe('box and snapshot lists', () => {
  it('reads the installed boxes (doctor checks for the lab box)', () => {
    expect(parseBoxList(fixture('box-list.txt'))).toEqual([{ name: 'k8slab/debian12', provider: 'libvirt', version: '0' }]);
    expect(parseBoxList('1795353196,,ui,warn,There are no installed boxes! Use `vagrant box add` to add some.\n')).toEqual([]);
  });

  it('reads snapshots per machine; a machine that is not created has none', () => {
    expect(parseSnapshotList(fixture('snapshot-list.txt'))).toEqual({ 'cap-m': ['clean'], 'cap-w1': [] });
  });
});

describe('progress steps from up output', () => {
  it('turns ui records into short per-machine steps', () => {
    const steps = parseMachineReadable(fixture('up-no-provision.txt'))
      .filter((r) => r.type === 'ui' && r.target === 'cap-m')
      .map((r) => stepOf(r.data[1] ?? '', 'cap-m'))
      .filter((s): s is string => s !== undefined);
    expect(steps).toContain('Starting domain.');
    expect(steps).toContain('Waiting for domain to get an IP address...');
    expect(steps).toContain('Machine booted and ready!');
    expect(steps.every((s) => !s.startsWith('==>') && !s.startsWith('cap-m:') && !s.startsWith('--'))).toBe(true);
  });
});
