// The bash behind the generated scripts, run for real: the pieces that can run on this machine without
// changing it (files in temp folders, a network namespace of our own), plus checks that every rendered
// script carries the pieces verbatim, so what is tested here is what runs on the nodes.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { renderFiles, SCRIPTS } from '../../src/render/index.js';
import { FIXTURE_CA_CERT, FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';
import { bash, functionFrom } from '../fixtures/render/bash.js';

const piece = (name: string) => readFileSync(join(PROVISION_DIR, `${name}.sh`), 'utf8');
const pieces = (...names: string[]) => names.map(piece).join('\n');
const defaultFiles = renderFiles(planFor(VARIANTS['default']!), FIXTURE_SECRETS);
const script = (name: string) => defaultFiles.get(name)!.content;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'k8slab-render-scripts-'));
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

test('every provision piece a script calls is inlined verbatim (minus its shebang)', async () => {
  const names = (await readdir(PROVISION_DIR)).filter((f) => f.endsWith('.sh'));
  for (const [variant, input] of Object.entries(VARIANTS)) {
    const files = renderFiles(planFor(input), FIXTURE_SECRETS);
    for (const s of SCRIPTS) {
      const text = files.get(s)!.content;
      expect(text.startsWith('#!/usr/bin/env bash\n'), `${variant}/${s}`).toBe(true);
      expect(text.match(/^#!\/usr\/bin\/env bash$/gm)?.length, `${variant}/${s}: pieces lose their shebang`).toBe(1);
      for (const n of names) {
        const body = readFileSync(join(PROVISION_DIR, n), 'utf8').replace(/^#!.*\n/, '').trimEnd();
        const fn = /^(\w+)\(\) \{/m.exec(body)?.[1];
        if (fn && new RegExp(`^${fn}\\(\\) \\{`, 'm').test(text)) expect(text, `${variant}/${s} has ${n}`).toContain(body);
      }
    }
  }
});

describe('/etc/hosts block (config.sh)', () => {
  const run = (file: string, lines: string[]) => bash(`${pieces('log', 'hosts')}\nwrite_hosts_block "$@"`, {}, [file, ...lines]);
  const nodes = ['192.168.56.10 m-k8s', '192.168.56.101 w1-k8s', '192.168.56.102 w2-k8s'];

  test('twice in a row: the same file, each line once, the rest untouched', async () => {
    const file = join(tmp, 'hosts');
    const before = '127.0.0.1 localhost\n127.0.1.1 m-k8s m-k8s\n::1 ip6-localhost\n';
    await writeFile(file, before);
    expect((await run(file, nodes)).exitCode).toBe(0);
    const once = await readFile(file, 'utf8');
    expect((await run(file, nodes)).exitCode).toBe(0);
    const twice = await readFile(file, 'utf8');
    expect(twice).toBe(once);
    const lines = twice.split('\n').filter((l) => l !== '');
    expect(new Set(lines).size).toBe(lines.length);
    expect(twice.startsWith(before)).toBe(true);
    for (const n of nodes) expect(lines.filter((l) => l === n)).toHaveLength(1);
  });

  test('a different node list replaces the block in place', async () => {
    const file = join(tmp, 'hosts2');
    await writeFile(file, '127.0.0.1 localhost\n');
    await run(file, nodes);
    await writeFile(file, (await readFile(file, 'utf8')) + '10.0.0.1 added-later\n');
    await run(file, nodes.slice(0, 2));
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('w2-k8s');
    expect(text.match(/BEGIN k8slab nodes/g)).toHaveLength(1);
    expect(text).toContain('10.0.0.1 added-later\n');
    expect(text.indexOf('added-later')).toBeLessThan(text.indexOf('BEGIN k8slab'));
  });

  test('config.sh writes the control plane and its first N workers', () => {
    const c = script('config.sh');
    expect(c).toMatch(/for \(\(i = 0; i <= workers; i\+\+\)\); do/);
    expect(c).toContain('write_hosts_block /etc/hosts "${hosts[@]}"');
  });
});

test("the Vagrantfile's inline step makes the CA key's upload folder private (mode 0700, the SSH user's)", async () => {
  const vf = script('Vagrantfile');
  const line = vf.split('\n').find((l) => l.includes('provision "shell", inline:'))!;
  // Read the command back with real ruby, aimed at a temp folder instead of /tmp/k8slab-pki.
  const cmd = (await execa('ruby', ['-e', `def x(*a, **o) print o[:inline] end\nx "shell", ${line.split('provision "shell", ')[1]!.replace(/ #.*$/, '')}`])).stdout;
  const dir = join(tmp, 'pki-upload');
  const r = await bash(cmd.replace('/tmp/k8slab-pki', dir), { SUDO_USER: 'root' });
  expect(r.exitCode, r.stderr).toBe(0);
  const st = await stat(dir);
  expect([st.mode & 0o777, st.uid]).toEqual([0o700, 0]);
});

describe('swap in /etc/fstab (config.sh)', () => {
  test('swap entries commented once; others untouched; a second run changes nothing', async () => {
    const file = join(tmp, 'fstab');
    const fstab = [
      'UUID=1234 / ext4 errors=remount-ro 0 1',
      '/swap.img\tnone\tswap\tsw\t0\t0',
      'UUID=abcd none swap sw 0 0',
      '# /dev/sdb1 none swap sw 0 0',
      '/dev/sdc1 /srv/swapdata ext4 defaults 0 2',
      '',
    ].join('\n');
    await writeFile(file, fstab);
    const run = () => bash(`${piece('swap')}\ncomment_swap_in_fstab "$1"`, {}, [file]);
    expect((await run()).exitCode).toBe(0);
    const once = await readFile(file, 'utf8');
    expect((await run()).exitCode).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(once);
    expect(once.split('\n')).toEqual([
      'UUID=1234 / ext4 errors=remount-ro 0 1',
      '#/swap.img\tnone\tswap\tsw\t0\t0',
      '#UUID=abcd none swap sw 0 0',
      '# /dev/sdb1 none swap sw 0 0',
      '/dev/sdc1 /srv/swapdata ext4 defaults 0 2',
      '',
    ]);
  });
});

describe('put_file (every config file the scripts write)', () => {
  test('writes, then reports "unchanged" without touching the file; sets the mode', async () => {
    const file = join(tmp, 'etc', 'k8slab.conf');
    const code = `${pieces('log', 'files')}\nif put_file "$1" 0640 <<<"$2"; then echo wrote; else echo same; fi`;
    expect((await bash(code, {}, [file, 'a = 1'])).stdout).toMatch(/wrote$/);
    const first = await stat(file);
    expect(first.mode & 0o777).toBe(0o640);
    expect((await bash(code, {}, [file, 'a = 1'])).stdout).toBe('same');
    expect((await stat(file)).mtimeMs).toBe(first.mtimeMs);
    expect((await bash(code, {}, [file, 'a = 2'])).stdout).toMatch(/wrote$/);
    expect(await readFile(file, 'utf8')).toBe('a = 2\n');
  });
});

describe('os_family (install_pkg.sh)', () => {
  const cases: [string, string, string | null][] = [
    ['ubuntu', 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n', 'debian'],
    ['debian', 'ID=debian\nVERSION_ID="12"\n', 'debian'],
    ['rocky', 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', 'rhel'],
    ['alma', "ID='almalinux'\nID_LIKE='rhel centos fedora'\n", 'rhel'],
    ['alpine', 'ID=alpine\n', null],
  ];
  test.each(cases)('%s', async (name, content, family) => {
    const file = join(tmp, `os-release-${name}`);
    await writeFile(file, content);
    const r = await bash(`${piece('os')}\nos_family "$1"`, {}, [file]);
    if (family === null) expect(r.exitCode).not.toBe(0);
    else expect([r.exitCode, r.stdout]).toEqual([0, family]);
  });
});

describe('retry and wait_for', () => {
  test('retry runs until success and stops there', async () => {
    const counter = join(tmp, 'count');
    await writeFile(counter, '');
    const code = `${pieces('log', 'retry')}\nflaky() { echo x >>"$1"; [[ $(wc -l <"$1") -ge 3 ]]; }\nretry 5 0 flaky "$1"`;
    const r = await bash(code, {}, [counter]);
    expect(r.exitCode).toBe(0);
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
  });

  test('retry gives up after its attempts, with a message', async () => {
    const r = await bash(`${pieces('log', 'retry')}\nretry 2 0 false`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('gave up after 2 attempts: false');
  });

  test('wait_for is bounded by its timeout', async () => {
    const started = Date.now();
    const r = await bash(`${pieces('log', 'wait-for')}\nwait_for "nothing" 1 false`, { WAIT_INTERVAL: '0.2' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nothing was not ready after 1s');
    expect(Date.now() - started).toBeLessThan(10_000); // bounded (an unbounded wait would hit the test timeout)
    const ok = await bash(`${pieces('log', 'wait-for')}\nwait_for "something" 5 true`);
    expect([ok.exitCode, ok.stdout]).toEqual([0, expect.stringContaining('something is ready')]);
  });
});

describe('the CA hash master_node.sh checks is the one the workers pin', () => {
  const check = `${pieces('log')}\nCA_CERT_HASH=$2\n${functionFrom(script('master_node.sh'), 'check_ca_hash')}\ncheck_ca_hash "$1"`;

  test('the plan hash of the fixture CA passes (real openssl)', async () => {
    const cert = join(tmp, 'ca.crt');
    await writeFile(cert, FIXTURE_CA_CERT);
    const plan = planFor(VARIANTS['default']!);
    const r = await bash(check, {}, [cert, plan.join.caCertHash]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  test('another hash stops the script with a message', async () => {
    const cert = join(tmp, 'ca.crt');
    await writeFile(cert, FIXTURE_CA_CERT);
    const r = await bash(check, {}, [cert, `sha256:${'0'.repeat(64)}`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('but the workers pin sha256:000');
  });
});

// A network namespace of our own with a veth interface: the node lookup and the worker's bounded wait
// run against real interfaces and a real (unreachable) address, and no traffic leaves the namespace.
describe('in a network namespace', () => {
  const ns = `k8slab-render-${process.pid}`;
  const inNs = (code: string, env: Record<string, string> = {}, args: string[] = []) =>
    execa('ip', ['netns', 'exec', ns, 'bash', '--noprofile', '--norc', '-c', code, 'bash', ...args], {
      reject: false,
      env,
    });

  beforeAll(async () => {
    await execa('ip', ['netns', 'add', ns]);
    await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // a veth pair with both ends inside (this kernel has no dummy interfaces)
    await execa('ip', ['-n', ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer']);
    await execa('ip', ['-n', ns, 'addr', 'add', '192.168.56.102/24', 'dev', 'eth1']);
    await execa('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
  });
  afterAll(async () => {
    await execa('ip', ['netns', 'del', ns], { reject: false });
  });

  test('node_index finds this machine by its planned private address', async () => {
    const ips = planFor(VARIANTS['default']!).nodes.map((n) => n.ip);
    const found = await inNs(`${pieces('nodes')}\nnode_index "$@"`, {}, ips);
    expect([found.exitCode, found.stdout]).toEqual([0, '2']);
    const none = await inNs(`${pieces('nodes')}\nnode_index "$@"`, {}, ['192.168.56.10', '192.168.56.101']);
    expect(none.exitCode).not.toBe(0);
  });

  test.skipIf(existsSync('/etc/kubernetes/kubelet.conf'))(
    'work_nodes.sh waits a bounded time for an absent control plane, then stops with a clear message',
    async () => {
      const r = await inNs(script('work_nodes.sh'), { API_WAIT_SECONDS: '2', WAIT_INTERVAL: '0.5', PATH: process.env.PATH ?? '' });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain('worker w2-k8s (192.168.56.102)');
      expect(r.stderr).toContain('the control plane at 192.168.56.10:6443 did not answer within 2s');
      expect(r.stderr).toContain('vagrant provision w2-k8s');
    },
  );
});
