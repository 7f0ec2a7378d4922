// The bridge CNI's reconciler (bridge-sync, from the cni-bridge partial) for real: a kube-apiserver from the
// testbed holds the Node objects, and the script runs in a network namespace this test creates (its
// routes and iptables rules stay there). Covers: the node's own CNI config from its podCIDR, routes to
// the other nodes via their InternalIP, a node joining later, a node removed, and a re-run changing nothing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFiles } from '../../src/render/files.js';
import { FIXTURE_SECRETS, planFor } from '../fixtures/render/variants.js';
import { CACHE, TESTBED } from '../testbed.js';

const CP_NAME = `k8slab-bsync-${process.pid}`;
const NS = `k8slab-bsync-${process.pid}`;
const HOST_IF = `k8sbs${process.pid % 100000}`;
const CLUSTER_CIDR = '10.244.0.0/16';
const usable = process.getuid?.() === 0 && existsSync(join(TESTBED, 'control-plane.sh'));

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
/** like run, with the command's stderr in the error */
const runOrShow = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
  try {
    return run(cmd, args, env);
  } catch (err) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
};

describe.skipIf(!usable)('bridge-sync against a real API server, in a network namespace', () => {
  let dir: string;
  let script: string;
  let kubeconfig: string;
  let kubectl: string;
  let conf: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8slab-bsync-'));
    // the script exactly as the generated work_nodes.sh installs it
    const plan = planFor({ workers: { count: 1 }, kubernetes: { version: '1.20.2', source: 'bundle', bundle: 'b', cni: 'bridge' }, addons: { ingress: { enabled: false } } });
    const work = renderFiles(plan, FIXTURE_SECRETS).get('work_nodes.sh')!.content;
    const body = /<<'SYNC' \|\| true\n([\s\S]*?)\nSYNC\n/.exec(work)?.[1];
    expect(body).toBeDefined();
    script = join(dir, 'bridge-sync');
    await writeFile(script, `${body!}\n`, { mode: 0o755 });
    conf = join(dir, '10-k8slab-bridge.conflist');

    // the namespace reaches the API server over a veth pair whose host end only this test uses
    run('ip', ['netns', 'add', NS]);
    run('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', NS]);
    run('ip', ['addr', 'add', '10.250.9.1/30', 'dev', HOST_IF]);
    run('ip', ['link', 'set', HOST_IF, 'up']);
    run('ip', ['-n', NS, 'addr', 'add', '10.250.9.2/30', 'dev', 'eth1']);
    run('ip', ['-n', NS, 'addr', 'add', '10.250.0.1/24', 'dev', 'eth1']);
    run('ip', ['-n', NS, 'link', 'set', 'eth1', 'up']);
    run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const env = Object.fromEntries(
      run(join(TESTBED, 'control-plane.sh'), ['up', '--name', CP_NAME, '--address', '10.250.9.1'])
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    kubeconfig = env.KUBECONFIG!;
    kubectl = join(env.K8SLAB_TESTBED_BIN ?? join(CACHE, 'k8s/v1.20.2/bin'), 'kubectl');
  }, 600_000);

  afterAll(async () => {
    try {
      run('ip', ['link', 'del', HOST_IF]);
    } catch {
      // gone with the namespace
    }
    try {
      run('ip', ['netns', 'del', NS]);
    } catch {
      // not created
    }
    try {
      run(join(TESTBED, 'control-plane.sh'), ['down', '--name', CP_NAME]);
    } catch {
      // not up
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const node = (name: string, cidr: string, ip: string) => `apiVersion: v1
kind: Node
metadata: { name: ${name} }
spec: { podCIDR: "${cidr}", podCIDRs: ["${cidr}"] }
status: { addresses: [{ type: InternalIP, address: "${ip}" }, { type: Hostname, address: ${name} }] }
`;
  const apply = async (yaml: string) => {
    const f = join(dir, 'node.yaml');
    await writeFile(f, yaml);
    run(kubectl, ['--kubeconfig', kubeconfig, 'create', '-f', f]);
  };
  const sync = () =>
    runOrShow('ip', ['netns', 'exec', NS, 'bash', script, 'm-k8s', CLUSTER_CIDR], {
      ...process.env,
      K8SLAB_KUBECONFIG: kubeconfig,
      K8SLAB_CNI_CONF: conf,
      K8SLAB_PATH: `${resolve(kubectl, '..')}:/usr/sbin:/usr/bin:/sbin:/bin`,
    });
  const routes = () => run('ip', ['-n', NS, '-4', 'route', 'show', 'proto', '77']).trim();
  const nat = () => run('ip', ['netns', 'exec', NS, 'iptables', '-t', 'nat', '-S', 'K8SLAB-BRIDGE']).trim();

  it('writes this node\'s CNI config and routes to the other nodes', async () => {
    await apply(node('m-k8s', '10.244.0.0/24', '10.250.0.1') + '---\n' + node('w1-k8s', '10.244.1.0/24', '10.250.0.2'));
    const out = sync();
    expect(out).toContain('bridge-sync: pod network config for 10.244.0.0/24');
    expect(out).toContain('bridge-sync: route 10.244.1.0/24 via 10.250.0.2 (w1-k8s)');
    const cni = JSON.parse(await readFile(conf, 'utf8')) as { plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[] };
    expect(cni.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(cni.plugins[0]!.ipam!.ranges[0]![0]!.subnet).toBe('10.244.0.0/24');
    expect(routes()).toBe('10.244.1.0/24 via 10.250.0.2 dev eth1');
    expect(nat()).toContain('-A K8SLAB-BRIDGE -s 10.244.0.0/24 ! -d 10.244.0.0/16 -j MASQUERADE');
  });

  it('a second run changes nothing', () => {
    expect(sync()).toBe('');
    expect(routes()).toBe('10.244.1.0/24 via 10.250.0.2 dev eth1');
    expect(nat().split('\n').filter((l) => l.startsWith('-A'))).toHaveLength(1);
  });

  it('a node that joins later gets its route; a removed node loses it', async () => {
    await apply(node('w2-k8s', '10.244.2.0/24', '10.250.0.3'));
    expect(sync()).toBe('bridge-sync: route 10.244.2.0/24 via 10.250.0.3 (w2-k8s)\n');
    run(kubectl, ['--kubeconfig', kubeconfig, 'delete', 'node', 'w1-k8s']);
    expect(sync()).toBe('bridge-sync: removed route 10.244.1.0/24\n');
    expect(routes()).toBe('10.244.2.0/24 via 10.250.0.3 dev eth1');
  });

  it('leaves routes it does not own alone', () => {
    run('ip', ['-n', NS, 'route', 'add', '10.99.0.0/24', 'via', '10.250.0.9']);
    sync();
    expect(run('ip', ['-n', NS, 'route', 'show', '10.99.0.0/24']).trim()).toBe('10.99.0.0/24 via 10.250.0.9 dev eth1');
  });
});
