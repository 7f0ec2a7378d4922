// The bash behind the generated scripts, run for real: the pieces that can run on this machine without
// changing it (files in temp folders, a network namespace of our own), plus checks that every rendered
// script carries the pieces verbatim, so what is tested here is what runs on the nodes.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROVISION_DIR } from '../../src/paths.js';
import { renderFiles, SCRIPTS } from '../../src/render/index.js';
import { FIXTURE_CA_CERT, FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';
import { bash, functionFrom, settingsOf } from '../fixtures/render/bash.js';

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

// EL9's sudo runs scripts with secure_path (/sbin:/bin:/usr/sbin:/usr/bin), without /usr/local/bin where
// containerd and the bundle's binaries are: install_pkg.sh exited 127 at `containerd --version`.
test.each([...SCRIPTS])('%s puts /usr/local/bin on PATH before anything runs', async (name) => {
  for (const [variant, input] of Object.entries(VARIANTS)) {
    const text = renderFiles(planFor(input), FIXTURE_SECRETS).get(name)!.content;
    const r = await bash(`${settingsOf(text)}printf '%s' "$PATH"`, { PATH: '/sbin:/bin:/usr/sbin:/usr/bin' });
    expect(r.exitCode, `${variant}: ${r.stderr}`).toBe(0);
    const dirs = r.stdout.split(':');
    expect(dirs.indexOf('/usr/local/bin'), variant).toBeGreaterThanOrEqual(0);
    expect(dirs.indexOf('/usr/local/bin'), variant).toBeLessThan(dirs.indexOf('/usr/bin'));
    expect(dirs.slice(-4), 'the caller\'s PATH stays, after ours').toEqual(['/sbin', '/bin', '/usr/sbin', '/usr/bin']);
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

// A machine reached as root with no sudo (a minimal container, PRODUCT-ON-NODES.md step 2): SUDO_USER is
// unset, and the folder belongs to the SSH user, root, instead of a 'vagrant' that does not exist there.
test('the CA upload folder belongs to the SSH user when it is root with no sudo (SUDO_USER unset)', async () => {
  const upload = planFor(VARIANTS['default']!).provisioning.controlPlane.find((s) => s.kind === 'upload');
  if (upload?.kind !== 'upload') throw new Error('the plan uploads no CA');
  const cmd = upload.prepare;
  const dir = join(tmp, 'pki-upload-root');
  const env = { ...process.env } as Record<string, string>;
  delete env.SUDO_USER;
  const r = await execa('bash', ['--noprofile', '--norc', '-c', cmd.replace('/tmp/k8slab-pki', dir)], { reject: false, env, extendEnv: false });
  expect(r.exitCode, r.stderr).toBe(0);
  const st = await stat(dir);
  expect([st.mode & 0o777, st.uid]).toEqual([0o700, process.getuid!()]);
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

  // An unbounded wait would run into this test's timeout.
  test('wait_for is bounded by its timeout', async () => {
    const r = await bash(`${pieces('log', 'wait-for')}\nwait_for "nothing" 1 false`, { WAIT_INTERVAL: '0.2' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nothing was not ready after 1s');
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

describe('config.sh: kernel modules, sysctls, NetworkManager', () => {
  const config = script('config.sh');
  const calls = () => join(tmp, `calls-${Math.random().toString(36).slice(2)}`);
  // Stand-ins for the system tools, as bash functions (they win over PATH): each call is logged.
  const fakes = (log: string, { modprobe = 0, sysctl = 0 } = {}) =>
    [
      `modprobe() { echo "modprobe $*" >>${log}; return ${modprobe}; }`,
      `sysctl() { echo "sysctl $*" >>${log}; return ${sysctl}; }`,
      `systemctl() { echo "systemctl $*" >>${log}; }`,
    ].join('\n');
  const logged = async (file: string) => (existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n') : []);

  test('ensure_module: no modprobe when the kernel has the feature (built in, or a container without /lib/modules)', async () => {
    const log = calls();
    const code = `${pieces('log')}\n${fakes(log, { modprobe: 1 })}\n${functionFrom(config, 'ensure_module')}\nensure_module overlay test -e "$1"`;
    const present = await bash(code, {}, [tmp]);
    expect(present.exitCode, present.stderr).toBe(0);
    expect(await logged(log)).toEqual([]);
    const absent = await bash(code, {}, [join(tmp, 'no-such-feature')]);
    expect(absent.exitCode).toBe(1);
    expect(await logged(log)).toEqual(['modprobe overlay']);
    expect(absent.stderr).toContain('cannot load the kernel module overlay');
  });

  // A system container with a private network (systemd-nspawn) has no /sys/module, not even for built-in
  // modules; /proc/filesystems lists overlay there as on a VM (the nodes tier failed on /sys/module/overlay).
  test('config.sh checks /proc/filesystems and /proc/sys/net/bridge before modprobe', () => {
    expect(config).toContain('ensure_module overlay grep -qw overlay /proc/filesystems\n');
    expect(config).toContain('ensure_module br_netfilter test -d /proc/sys/net/bridge\n');
    expect(config).not.toMatch(/ensure_module \w+ (test -e )?\/sys\/module/);
    expect(config).not.toMatch(/^modprobe /m);
  });

  test("the lab's sysctls are applied on every run, from the lab's file only; a failure stops the script", async () => {
    const start = config.indexOf('put_file /etc/sysctl.d/90-k8slab.conf');
    const end = config.indexOf('\n', config.indexOf('apply_sysctls /etc/sysctl.d/90-k8slab.conf'));
    const file = join(tmp, 'sysctl.d', '90-k8slab.conf');
    const section = config.slice(start, end).replaceAll('/etc/sysctl.d/90-k8slab.conf', file);
    const log = calls();
    const run = (fail = 0) =>
      bash(`${pieces('log', 'files')}\n${fakes(log, { sysctl: fail })}\n${functionFrom(config, 'apply_sysctls')}\n${section}`);
    expect((await run(1)).exitCode).toBe(1); // a first run whose apply failed...
    const again = await run(); // ...is followed by a re-run with the file already in place
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await logged(log)).toEqual([`sysctl -q -p ${file}`, `sysctl -q -p ${file}`]);
    expect(config.split('\n').filter((l) => !/^\s*#/.test(l) && l.includes('sysctl --system'))).toEqual([]);
  });

  test('NetworkManager, where present, is told to leave Calico\'s interfaces alone; reloaded only on change', async () => {
    const nm = join(tmp, 'NetworkManager');
    await rm(nm, { recursive: true, force: true });
    const log = calls();
    const code = `${pieces('log', 'files')}\n${fakes(log)}\n${functionFrom(config, 'keep_networkmanager_off_calico')}\nkeep_networkmanager_off_calico "$1"`;
    expect((await bash(code, {}, [nm])).exitCode).toBe(0);
    expect(existsSync(nm)).toBe(false); // no NetworkManager: nothing written
    await mkdir(nm);
    expect((await bash(code, {}, [nm])).exitCode).toBe(0);
    const conf = await readFile(join(nm, 'conf.d', 'k8slab-calico.conf'), 'utf8');
    const devices = /^unmanaged-devices=(.*)$/m.exec(conf)![1]!.split(';');
    for (const d of ['cali*', 'tunl*', 'vxlan.calico', 'wireguard.cali']) expect(devices).toContain(`interface-name:${d}`);
    expect(conf).toMatch(/^\[keyfile\]$/m);
    expect(await logged(log)).toEqual(['systemctl is-active --quiet NetworkManager', 'systemctl reload NetworkManager']);
    expect((await bash(code, {}, [nm])).exitCode).toBe(0);
    expect((await logged(log)).length).toBe(2); // unchanged: no second reload
    expect(config).toContain('keep_networkmanager_off_calico /etc/NetworkManager\n');
    const bridge = renderFiles(planFor(VARIANTS['bundle-bridge']!), FIXTURE_SECRETS).get('config.sh')!.content;
    expect(bridge).not.toContain('keep_networkmanager_off_calico');
  });
});

describe('kubeadm init (master_node.sh)', () => {
  const master = script('master_node.sh');
  const settings = (dir: string) =>
    [
      `KUBECONFIG=${dir}/admin.conf`,
      `KUBEADM_CONFIG=${dir}/k8slab/kubeadm-init.yaml`,
      `INIT_DONE=${dir}/k8slab/kubeadm-init.done`,
      `CLUSTER_PKI=${dir}/pki`,
      'JOIN_TOKEN=abcdef.0123456789abcdef NODE_IP=192.168.56.10 NODE_NAME=m-k8s',
      'POD_CIDR=172.16.0.0/16 SERVICE_CIDR=10.96.0.0/12',
    ].join('\n');
  const functions = ['in_container', 'write_kubeadm_config', 'reset_keeping_ca', 'kubeadm_init'].map((f) => functionFrom(master, f)).join('\n');

  const configFor = async (version: string, container: boolean) => {
    const dir = await mkdtemp(join(tmp, 'kubeadm-config-'));
    const code = [
      pieces('log', 'files'),
      settings(dir),
      `systemd-detect-virt() { [[ $1 == -c ]] || return 2; [[ \${2:-} == -q ]] || echo systemd-nspawn; return ${container ? 0 : 1}; }`,
      functionFrom(master, 'in_container'),
      functionFrom(master, 'write_kubeadm_config'),
      `write_kubeadm_config ${version}`,
    ].join('\n');
    const r = await bash(code);
    expect(r.exitCode, r.stderr).toBe(0);
    const docs = parseAllDocuments(await readFile(join(dir, 'k8slab/kubeadm-init.yaml'), 'utf8')).map((d) => d.toJS());
    return { docs: Object.fromEntries(docs.map((d) => [d.kind, d])), stdout: r.stdout };
  };

  test('the exact kubeadm version is the cluster version, in the kubeadm API of that release', async () => {
    const { docs } = await configFor('v1.34.2', false);
    expect(docs.ClusterConfiguration).toMatchObject({ apiVersion: 'kubeadm.k8s.io/v1beta4', kubernetesVersion: 'v1.34.2' });
    expect(docs.ClusterConfiguration.networking).toEqual({ podSubnet: '172.16.0.0/16', serviceSubnet: '10.96.0.0/12' });
    expect(docs.InitConfiguration.bootstrapTokens[0]).toMatchObject({ token: 'abcdef.0123456789abcdef', ttl: '0s' });
    expect(docs.InitConfiguration.localAPIEndpoint.advertiseAddress).toBe('192.168.56.10');
    expect(docs.InitConfiguration.nodeRegistration).toEqual({ name: 'm-k8s', criSocket: 'unix:///run/containerd/containerd.sock' });
    expect(docs.KubeletConfiguration.cgroupDriver).toBe('systemd');
    expect(docs.KubeProxyConfiguration).toBeUndefined();
    const old = (await configFor('v1.20.2', false)).docs;
    expect(old.ClusterConfiguration).toMatchObject({ apiVersion: 'kubeadm.k8s.io/v1beta2', kubernetesVersion: 'v1.20.2' });
    expect(old.InitConfiguration.nodeRegistration.criSocket).toBe('/run/containerd/containerd.sock');
  });

  test('in a system container kube-proxy leaves the conntrack table size alone (maxPerCore 0)', async () => {
    const { docs, stdout } = await configFor('v1.34.2', true);
    expect(docs.KubeProxyConfiguration).toEqual({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      conntrack: { maxPerCore: 0 },
    });
    expect(stdout).toContain('a system container (systemd-nspawn)');
  });

  // kubeadm and kubectl are stand-ins that log their calls; INIT_RC is what `kubeadm init` returns, and
  // like the real one it writes admin.conf before it can fail. API_UP says whether the API answers.
  const runInit = async (dir: string, env: { INIT_RC?: string; API_UP?: string }) => {
    const code = [
      pieces('log', 'files'),
      settings(dir),
      `LOG=${dir}/calls`,
      'systemd-detect-virt() { return 1; }',
      // like the real one, reset empties the pki folder
      'kubeadm() { echo "kubeadm $*" >>"$LOG"; case $1 in version) echo v1.34.2 ;; init) : >"$KUBECONFIG"; return "${INIT_RC:-0}" ;; reset) rm -rf "$KUBECONFIG" "${CLUSTER_PKI:?}"/* ;; esac; }',
      'kubectl() { echo "kubectl $*" >>"$LOG"; [[ ${API_UP:-no} == yes ]]; }',
      'wait_for() { shift 2; "$@"; }', // its polling is tested above; here only its verdict matters
      functions,
      'kubeadm_init',
    ].join('\n');
    const r = await bash(code, env);
    const calls = existsSync(join(dir, 'calls')) ? (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n') : [];
    await rm(join(dir, 'calls'), { force: true });
    return { ...r, calls };
  };

  test('a failed init is not taken for done: the re-run resets it and runs init again', async () => {
    const dir = await mkdtemp(join(tmp, 'kubeadm-init-'));
    await mkdir(join(dir, 'pki'));
    await writeFile(join(dir, 'pki', 'ca.crt'), 'the lab CA\n');
    await writeFile(join(dir, 'pki', 'ca.key'), 'its key\n', { mode: 0o600 });
    await writeFile(join(dir, 'pki', 'apiserver.crt'), 'made by the failed init\n');
    const cfg = `${dir}/k8slab/kubeadm-init.yaml`;
    const failed = await runInit(dir, { INIT_RC: '1' });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('kubeadm init failed');
    expect(failed.calls).toEqual(['kubeadm version -o short', `kubeadm init --config ${cfg}`]);
    expect([existsSync(join(dir, 'admin.conf')), existsSync(join(dir, 'k8slab/kubeadm-init.done'))]).toEqual([true, false]);

    const rerun = await runInit(dir, {});
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.calls).toEqual(['kubectl get --raw=/readyz', 'kubeadm reset -f', 'kubeadm version -o short', `kubeadm init --config ${cfg}`]);
    // the reset kept the lab's CA, which the workers pin, and nothing else of the failed init
    expect((await readdir(join(dir, 'pki'))).sort()).toEqual(['ca.crt', 'ca.key']);
    expect(await readFile(join(dir, 'pki', 'ca.crt'), 'utf8')).toBe('the lab CA\n');
    expect((await stat(join(dir, 'pki', 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'k8slab/kubeadm-init.done'))).toBe(true);

    const third = await runInit(dir, {});
    expect([third.exitCode, third.calls]).toEqual([0, []]);
    expect(third.stdout).toContain('kubeadm init was done before');
  });

  test('a control plane set up before the marker existed is kept when its API server answers', async () => {
    const dir = await mkdtemp(join(tmp, 'kubeadm-init-'));
    await writeFile(join(dir, 'admin.conf'), 'an earlier init\n');
    const r = await runInit(dir, { API_UP: 'yes' });
    expect([r.exitCode, r.calls]).toEqual([0, ['kubectl get --raw=/readyz']]);
    expect(existsSync(join(dir, 'k8slab/kubeadm-init.done'))).toBe(true);
  });

  test('the control plane pulls the images of the installed kubeadm, not of the newest patch', async () => {
    const install = script('install_pkg.sh');
    const block = /^if \[\[ \$role == Main \]\]; then\n[\s\S]*?^fi\n/m.exec(install)?.[0];
    expect(block).toBeDefined();
    const log = join(tmp, 'pull-calls');
    const code = `${pieces('log', 'retry')}\nrole=Main\nkubeadm() { echo "kubeadm $*" >>${log}; [[ $1 != version ]] || echo v1.34.2; }\n${block!}`;
    const r = await bash(code);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
      'kubeadm version -o short',
      'kubeadm config images pull --kubernetes-version v1.34.2',
    ]);
  });
});

// The bundle's crictl stand-in (install-bundle): kubeadm reset stops and removes each pod sandbox; every
// container of that pod must go with it, or the control plane keeps ports 6443, 2379... (the next init
// then fails its preflight). Here against a fake ctr that keeps containers as files; test/tools runs the
// same stand-in against a real containerd.
describe('crictl stand-in: stopp and rmp act on the whole pod', () => {
  const install = renderFiles(planFor(VARIANTS['bundle-bridge']!), FIXTURE_SECRETS).get('install_pkg.sh')!.content;
  const standin = /<<'CRICTL' \|\| true\n([\s\S]*?)\nCRICTL\n/.exec(install)![1]!;
  const fakeCtr = `#!/bin/bash
# fake ctr: a container is STATE/ID.uid (its pod uid); a running task is STATE/ID.task
while [[ $1 == --address || $1 == -n ]]; do shift 2; done
s=$STATE
echo "ctr $*" >>"$s/calls"
case "$1 $2" in
  "containers info") [[ -f $s/$3.uid ]] || exit 1; printf '{\\n  "Labels": {\\n    "io.kubernetes.pod.uid": "%s"\\n  }\\n}\\n' "$(cat "$s/$3.uid")" ;;
  "containers ls") want=\${4#labels.\\"io.kubernetes.pod.uid\\"==}; [[ $3 == -q ]] || exit 2
    for f in "$s"/*.uid; do [[ $(cat "$f") == "$want" ]] && basename "$f" .uid; done; exit 0 ;;
  "tasks kill") rm -f "$s/$5.task" ;;
  "tasks rm") rm -f "$s/$4.task" ;;
  "containers rm") rm -f "$s/$3.uid" ;;
  *) exit 3 ;;
esac
`;
  let dir: string;
  const pod = async (uid: string, ...ids: string[]) => {
    for (const id of ids) {
      await writeFile(join(dir, `${id}.uid`), uid);
      await writeFile(join(dir, `${id}.task`), '');
    }
  };
  const left = async () => (await readdir(dir)).filter((f) => f !== 'calls' && f !== 'bin').sort();
  const crictl = (...args: string[]) =>
    execa(join(dir, 'bin', 'crictl'), args, { reject: false, env: { STATE: dir, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmp, 'crictl-'));
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'ctr'), fakeCtr, { mode: 0o755 });
    await writeFile(join(dir, 'bin', 'crictl'), `${standin}\n`, { mode: 0o755 });
  });

  test('stopp kills every task of the pod and no other; rmp removes every container of the pod', async () => {
    await pod('uid-apiserver', 'sb-apiserver', 'c-apiserver');
    await pod('uid-etcd', 'sb-etcd', 'c-etcd');
    expect((await crictl('stopp', 'sb-apiserver')).exitCode).toBe(0);
    expect(await left()).toEqual(['c-apiserver.uid', 'c-etcd.task', 'c-etcd.uid', 'sb-apiserver.uid', 'sb-etcd.task', 'sb-etcd.uid']);
    expect((await crictl('rmp', 'sb-apiserver')).exitCode).toBe(0);
    expect(await left()).toEqual(['c-etcd.task', 'c-etcd.uid', 'sb-etcd.task', 'sb-etcd.uid']);
  });

  test('a sandbox without a pod uid label (or gone already) is handled alone, without error', async () => {
    await writeFile(join(dir, 'lonely.uid'), '');
    expect((await crictl('stopp', 'lonely')).exitCode).toBe(0);
    expect((await crictl('rmp', 'lonely')).exitCode).toBe(0);
    expect(await left()).not.toContain('lonely.uid');
    expect((await crictl('rmp', 'never-existed')).exitCode).toBe(0);
  });
});

describe('containerd configuration (install_pkg.sh)', () => {
  const install = script('install_pkg.sh');
  const caps = async (name: string, capEff: string) => {
    const file = join(tmp, `status-${name}`);
    await writeFile(file, `Name:\tbash\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\nCapBnd:\t${capEff}\n`);
    return file;
  };

  test('has_cap_sys_resource reads bit 24 of CapEff', async () => {
    const code = `${functionFrom(install, 'has_cap_sys_resource')}\nhas_cap_sys_resource "$1"`;
    expect((await bash(code, {}, [await caps('vm', '000001ffffffffff')])).exitCode).toBe(0);
    // an nspawn container on this kind of host: everything but CAP_SYS_RESOURCE (PRODUCT-ON-NODES.md)
    expect((await bash(code, {}, [await caps('nspawn', '000001fffeffffff')])).exitCode).toBe(1);
    expect((await bash(code, {}, [await caps('none', '0000000000000000')])).exitCode).toBe(1);
    expect((await bash(code, {}, [join(tmp, 'no-such-status')])).exitCode).not.toBe(0);
  });

  // containerd and systemctl are stand-ins; CAPS is the status file has_cap_sys_resource reads.
  const configure = (dir: string, env: Record<string, string>) =>
    bash(
      [
        pieces('log', 'files'),
        `CONTAINERD_CONFIG=${dir}/config.toml`,
        'CONTAINERD_RESTART=${RESTART:-no}',
        'containerd() { echo "containerd github.com/containerd/containerd/v2 v${CONTAINERD_AT:-2.1.4} 0123abc"; }',
        `systemctl() { echo "systemctl $*" >>${dir}/calls; }`,
        functionFrom(install, 'has_cap_sys_resource'),
        functionFrom(install, 'oom_score_restriction').replace('has_cap_sys_resource /proc/self/status', 'has_cap_sys_resource "$CAPS"'),
        functionFrom(install, 'configure_containerd'),
        'configure_containerd',
      ].join('\n'),
      env,
    );
  const restarts = async (dir: string) => {
    const file = join(dir, 'calls');
    const n = existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter((l) => l === 'systemctl restart containerd').length : 0;
    await rm(file, { force: true });
    return n;
  };

  test('restarted when its configuration changed or its binaries did, and only then', async () => {
    const dir = await mkdtemp(join(tmp, 'containerd-'));
    const CAPS = await caps('vm', '000001ffffffffff');
    expect((await configure(dir, { CAPS })).exitCode).toBe(0);
    expect(await restarts(dir)).toBe(1);
    const toml = await readFile(join(dir, 'config.toml'), 'utf8');
    expect(toml).toContain("version = 3\n[plugins.'io.containerd.cri.v1.runtime']\n  restrict_oom_score_adj = false\n");
    expect(toml).toContain('SystemdCgroup = true');
    expect((await configure(dir, { CAPS })).exitCode).toBe(0);
    expect(await restarts(dir)).toBe(0); // nothing changed
    expect((await configure(dir, { CAPS, RESTART: 'yes' })).exitCode).toBe(0);
    expect(await restarts(dir)).toBe(1); // install_containerd replaced the binaries
    expect((await configure(dir, { CAPS, CONTAINERD_AT: '1.7.28' })).exitCode).toBe(0);
    expect(await readFile(join(dir, 'config.toml'), 'utf8')).toContain('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = false\n');
    expect(await restarts(dir)).toBe(1);
  });

  test('without CAP_SYS_RESOURCE (a system container), pods keep containerd\'s oom score or above', async () => {
    const dir = await mkdtemp(join(tmp, 'containerd-'));
    const r = await configure(dir, { CAPS: await caps('nspawn', '000001fffeffffff') });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'config.toml'), 'utf8')).toContain("[plugins.'io.containerd.cri.v1.runtime']\n  restrict_oom_score_adj = true\n");
    expect(r.stderr).toContain('no CAP_SYS_RESOURCE');
  });

  test('install_containerd asks for the restart when it replaces the binaries', () => {
    const fn = functionFrom(install, 'install_containerd');
    expect(fn).toMatch(/tar -C \/usr\/local -xzf "\$tarball"[\s\S]*CONTAINERD_RESTART=yes\n\}/);
  });
});

// Add-on manifests live in a folder named by their version, so a re-provision after a version change
// fetches and applies the new manifest (a path without the version kept the old file forever).
describe('add-on manifests after a version change (master_node.sh)', () => {
  const master = renderFiles(
    planFor({ addons: { metallb: { enabled: true, range: '192.168.56.200-192.168.56.220' }, storage: { provider: 'local-path' } } }),
    FIXTURE_SECRETS,
  ).get('master_node.sh')!.content;

  test.each([
    ['calico', 'apply_calico', 'CALICO', 'calico.yaml', '3.31.3', '3.32.0'],
    ['local-path', 'install_local_path', 'LOCAL_PATH', 'local-path-storage.yaml', '0.0.32', '0.0.36'],
  ])('%s: the second version is fetched and is what kustomize applies', async (name, fn, prefix, file, v1, v2) => {
    const dir = await mkdtemp(join(tmp, `addon-${name}-`));
    const upstream = join(dir, 'upstream');
    for (const v of [v1, v2]) {
      await mkdir(join(upstream, v), { recursive: true });
      await writeFile(join(upstream, v, file), `# ${name} ${v}\n`);
    }
    const run = (v: string) =>
      bash(
        [
          pieces('log', 'retry', 'fetch', 'files'),
          `ADDONS_DIR=${dir}/addons POD_CIDR=172.16.0.0/16 PRIVATE_CIDR=192.168.56.0/24`,
          `${prefix}_VERSION=${v} ${prefix}_URL=file://${upstream}/${v}/${file}`,
          // kubectl apply -k: print the files the kustomization names, as kustomize would read them
          `kubectl() { local d=\${@: -1}; awk '/^resources:/ { r = 1; next } /^[^ ]/ { r = 0 } r && /^  - / { print $2 }' "$d/kustomization.yaml" | while read -r f; do cat "$d/$f"; done >${dir}/applied; }`,
          functionFrom(master, 'apply_dir'),
          functionFrom(master, fn),
          fn,
        ].join('\n'),
      );
    const applied = () => readFile(join(dir, 'applied'), 'utf8');
    const first = await run(v1);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await applied()).toBe(`# ${name} ${v1}\n`);
    const second = await run(v2);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(await applied()).toBe(`# ${name} ${v2}\n`);
  });

  test('MetalLB: the manifest applied is the one of the version asked for', () => {
    const fn = functionFrom(master, 'install_metallb');
    expect(fn).toContain('fetch "$METALLB_URL" "$dir/$METALLB_VERSION/metallb-native.yaml"');
    expect(fn).toContain('-f "$dir/$METALLB_VERSION/metallb-native.yaml"');
  });
});

describe('MetalLB with no workers (master_node.sh)', () => {
  const render = (count: number) =>
    renderFiles(planFor({ workers: { count }, addons: { metallb: { enabled: true, range: '192.168.56.200-192.168.56.220' } } }), FIXTURE_SECRETS).get(
      'master_node.sh',
    )!.content;

  test('the control plane loses exclude-from-external-load-balancers, so MetalLB can announce from it', async () => {
    const master = render(0);
    const log = join(tmp, 'metallb-label-calls');
    const labels = '{"kubernetes.io/hostname":"m-k8s","node.kubernetes.io/exclude-from-external-load-balancers":""}';
    const code = [
      pieces('log'),
      'NODE_NAME=m-k8s',
      `kubectl() { echo "kubectl $*" >>${log}; [[ $1 != get ]] || printf '%s' "$LABELS"; }`,
      functionFrom(master, 'let_metallb_announce_from_control_plane'),
      'let_metallb_announce_from_control_plane',
    ].join('\n');
    expect((await bash(code, { LABELS: labels })).exitCode).toBe(0);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
      "kubectl get node m-k8s -o jsonpath={.metadata.labels}",
      'kubectl label node m-k8s node.kubernetes.io/exclude-from-external-load-balancers-',
    ]);
    await rm(log);
    expect((await bash(code, { LABELS: '{"kubernetes.io/hostname":"m-k8s"}' })).exitCode).toBe(0);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1); // already gone: no second label call
    expect(master).toMatch(/^if \(\(WORKER_COUNT == 0\)\); then\n  let_metallb_announce_from_control_plane\nfi$/m);
  });

  test('with workers (the guard above), or without MetalLB, the label stays', () => {
    expect(render(2)).toContain('WORKER_COUNT=2\n');
    expect(renderFiles(planFor({ workers: { count: 0 }, addons: { metallb: { enabled: false } } }), FIXTURE_SECRETS).get('master_node.sh')!.content).not.toContain(
      'let_metallb_announce_from_control_plane',
    );
  });
});

test('kubeconfig goes to root, vagrant where it exists, and the sudo user of a machine lab', async () => {
  const master = script('master_node.sh');
  const start = master.indexOf('copy_kubeconfig root\n');
  const block = master.slice(start, master.indexOf('\ndone\n', start) + 6);
  const run = async (users: string, sudoUser?: string) => {
    const env: Record<string, string> = { USERS: users };
    if (sudoUser !== undefined) env.SUDO_USER = sudoUser;
    const r = await bash(`copy_kubeconfig() { echo "$1"; }\nid() { [[ " $USERS " == *" $1 "* ]]; }\nunset SUDO_USER\n${sudoUser ? `SUDO_USER=${sudoUser}\n` : ''}${block}`, env);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.split('\n');
  };
  expect(await run('root vagrant', 'vagrant')).toEqual(['root', 'vagrant']);
  expect(await run('root vagrant')).toEqual(['root', 'vagrant']);
  expect(await run('root ubuntu', 'ubuntu')).toEqual(['root', 'ubuntu']);
  expect(await run('root')).toEqual(['root']);
  expect(await run('root', 'root')).toEqual(['root']);
});

describe('bundle install steps (install-bundle)', () => {
  const install = renderFiles(planFor(VARIANTS['bundle-bridge']!), FIXTURE_SECRETS).get('install_pkg.sh')!.content;

  // A box with a PATH of its own: the tools it "has" are stand-ins in bin/, and apt-get "installs" a deb by
  // creating the command its name gives (curl_8.deb -> bin/curl).
  async function box(tools: string[], debs: string[]) {
    const dir = await mkdtemp(join(tmp, 'bundle-box-'));
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'bundle', 'debs'), { recursive: true });
    for (const t of ['date', 'bash', 'cat', 'chmod']) await execa('ln', ['-s', (await execa('bash', ['-c', `command -v ${t}`])).stdout, join(dir, 'bin', t)]);
    for (const t of tools) await writeFile(join(dir, 'bin', t), '#!/bin/sh\necho "containerd github.com/containerd/containerd 1.6.20 x"\n', { mode: 0o755 });
    for (const d of debs) await writeFile(join(dir, 'bundle', 'debs', d), '');
    await writeFile(join(dir, 'bin', 'dpkg-query'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    await writeFile(
      join(dir, 'bin', 'apt-get'),
      `#!/bin/bash\necho "apt-get $*" >>${dir}/calls\nfor a in "$@"; do case $a in *.deb) n=\${a##*/}; n=\${n%%_*}; printf '#!/bin/sh\\n' >${dir}/bin/$n; chmod +x ${dir}/bin/$n ;; esac; done\n`,
      { mode: 0o755 },
    );
    const code = [pieces('log'), `family=debian BUNDLE_DIR=${dir}/bundle`, functionFrom(install, 'bundle_runtime'), 'bundle_runtime'].join('\n');
    const r = await execa('bash', ['--noprofile', '--norc', '-c', code], { reject: false, env: { PATH: join(dir, 'bin') }, extendEnv: false });
    const calls = existsSync(join(dir, 'calls')) ? await readFile(join(dir, 'calls'), 'utf8') : '';
    return { ...r, calls, has: (t: string) => existsSync(join(dir, 'bin', t)) };
  }

  test('a box with the runtime but no curl gets curl from the bundle', async () => {
    const r = await box(['containerd', 'runc', 'conntrack', 'socat'], ['curl_7.88.1-10_amd64.deb', 'libcurl4_7.88.1-10_amd64.deb']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.calls).toMatch(/apt-get install .*curl_7\.88\.1-10_amd64\.deb/);
    // Debian 12's apt with --no-download refuses local .deb files ("Pathname to install is not absolute"),
    // which stopped install_pkg.sh on the nodes tier's bare machines
    expect(r.calls).not.toContain('--no-download');
    expect(r.has('curl')).toBe(true);
  });

  test('a bundle that cannot bring curl stops the script, naming what to add', async () => {
    const r = await box(['containerd', 'runc', 'conntrack', 'socat'], ['socat_1.7_amd64.deb']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("the box lacks curl and the bundle's packages did not bring it");
  });

  test('a box with everything installs nothing', async () => {
    const r = await box(['containerd', 'runc', 'conntrack', 'socat', 'curl'], ['curl_7.88.1-10_amd64.deb']);
    expect([r.exitCode, r.calls]).toEqual([0, '']);
  });

  test("tarball_names reads a tarball once, then again only when it changes", async () => {
    const dir = await mkdtemp(join(tmp, 'bundle-images-'));
    await writeFile(join(dir, 'manifest.json'), '[{"Config":"c.json","RepoTags":["k8s.gcr.io/pause:3.2","k8s.gcr.io/pause:latest"],"Layers":[]}]');
    const tar = join(dir, 'pause.tar');
    await execa('tar', ['-C', dir, '-cf', tar, 'manifest.json']);
    const run = () =>
      bash(
        [
          `BUNDLE_IMAGE_CACHE=${dir}/cache`,
          `tar() { echo tar >>${dir}/reads; command tar "$@"; }`,
          functionFrom(install, 'tarball_names'),
          `tarball_names ${tar}`,
        ].join('\n'),
      );
    const reads = async () => (existsSync(join(dir, 'reads')) ? (await readFile(join(dir, 'reads'), 'utf8')).trim().split('\n').length : 0);
    const first = await run();
    expect([first.exitCode, first.stdout]).toEqual([0, 'k8s.gcr.io/pause:3.2\nk8s.gcr.io/pause:latest']);
    expect(await reads()).toBe(1);
    expect((await run()).stdout).toBe(first.stdout);
    expect(await reads()).toBe(1); // the no-op re-run did not read the tarball
    await execa('touch', ['-d', '2001-01-01', tar]);
    expect((await run()).stdout).toBe(first.stdout);
    expect(await reads()).toBe(2); // a changed tarball is read again
  });
});

// cni: bridge: a node is Ready once its CNI config exists; the first sync may come before its podCIDR.
test('bridge CNI: the sync is repeated until the node has its pod network config, not a minute later', async () => {
  const master = renderFiles(planFor(VARIANTS['bundle-bridge']!), FIXTURE_SECRETS).get('master_node.sh')!.content;
  const dir = await mkdtemp(join(tmp, 'bridge-'));
  const conf = join(dir, '10-k8slab-bridge.conflist');
  const line = master.split('\n').findIndex((l) => l.startsWith('wait_for "this node\'s pod network config'));
  const call = master.split('\n').slice(line, line + 2).join('\n');
  // the third sync finds a podCIDR and writes the config
  const code = [
    pieces('log', 'wait-for'),
    `BRIDGE_CNI_CONF=${conf}`,
    `systemctl() { echo x >>${dir}/syncs; [[ $(wc -l <${dir}/syncs) -lt 3 ]] || echo '{}' >${conf}; }`,
    functionFrom(master, 'bridge_sync_once'),
    call,
  ].join('\n');
  const r = await bash(code, { WAIT_INTERVAL: '0.1' });
  expect(r.exitCode, r.stderr).toBe(0);
  expect((await readFile(join(dir, 'syncs'), 'utf8')).trim().split('\n')).toHaveLength(3);
  expect(r.stdout).toContain("this node's pod network config");
  expect(renderFiles(planFor(VARIANTS['bundle-bridge']!), FIXTURE_SECRETS).get('work_nodes.sh')!.content).toContain(call);
});
