// Pieces of the lifecycle that need no VM: readiness rules, kubeconfig rewriting, the summary table,
// and `down` on a lab that has nothing (real virsh and vagrant when present: it must succeed and say so).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { evaluate, parseNodes, parsePods } from '../../src/cluster/readiness.js';
import { rewriteKubeconfig, serverOf, canReach } from '../../src/cluster/kubeconfig.js';
import { down } from '../../src/down/down.js';
import { openLab } from '../../src/lab/lab.js';
import { formatSummary, summaryRows } from '../../src/ui/summary.js';
import { makePlan } from '../../src/plan/plan.js';
import { generateSecrets } from '../../src/plan/secrets.js';
import { PlainProgress } from '../../src/ui/progress.js';
import { main } from '../../src/cli/main.js';

const node = (name: string, ready: string, role?: string) => ({
  metadata: { name, labels: role ? { [`node-role.kubernetes.io/${role}`]: '' } : {} },
  status: {
    conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }],
    addresses: [{ type: 'InternalIP', address: '192.168.56.10' }, { type: 'Hostname', address: name }],
    nodeInfo: { kubeletVersion: 'v1.34.2' },
  },
});
const pod = (name: string, ns: string, phase: string, ready: boolean) => ({
  metadata: { name, namespace: ns },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

describe('cluster readiness', () => {
  it('reads nodes: Ready condition, roles, IP, kubelet version', () => {
    const [n] = parseNodes(list([node('m-k8s', 'True', 'control-plane')]));
    expect(n).toEqual({ name: 'm-k8s', ready: true, status: 'Ready', roles: ['control-plane'], internalIp: '192.168.56.10', kubeletVersion: 'v1.34.2' });
    expect(parseNodes(list([node('w1-k8s', 'Unknown')]))[0]?.status).toBe('Unknown');
    expect(() => parseNodes('error: the server doesn\'t have a resource type')).toThrow(/JSON list of nodes/);
  });

  it('is ready only when every node and system pod is, with calico-node on each node', () => {
    const nodes = parseNodes(list([node('m-k8s', 'True'), node('w1-k8s', 'True')]));
    const pods = parsePods(
      list([
        pod('coredns-1', 'kube-system', 'Running', true),
        pod('calico-node-a', 'kube-system', 'Running', true),
        pod('calico-node-b', 'kube-system', 'Running', true),
        pod('job-x', 'kube-system', 'Succeeded', false),
      ]),
    );
    expect(evaluate(nodes, pods, { nodes: ['m-k8s', 'w1-k8s'], cni: 'calico' })).toEqual({ ready: true, waitingFor: [] });
    const oneCalico = pods.filter((p) => p.name !== 'calico-node-b');
    expect(evaluate(nodes, oneCalico, { nodes: ['m-k8s', 'w1-k8s'], cni: 'calico' }).waitingFor).toEqual(['calico-node on every node (1/2 Ready)']);
    expect(evaluate(nodes, oneCalico, { nodes: ['m-k8s', 'w1-k8s'], cni: 'bridge' }).ready).toBe(true);
    const r = evaluate(nodes.slice(0, 1), [...pods, ...parsePods(list([pod('kube-proxy-z', 'kube-system', 'Pending', false)]))], {
      nodes: ['m-k8s', 'w1-k8s'],
      cni: 'bridge',
    });
    expect(r.ready).toBe(false);
    expect(r.waitingFor).toEqual(['node w1-k8s to register', 'pod kube-system/kube-proxy-z (Pending)']);
  });
});

describe('kubeconfig', () => {
  const admin = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: https://192.168.56.10:6443
  name: kubernetes
contexts:
- context: {cluster: kubernetes, user: kubernetes-admin}
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
users:
- name: kubernetes-admin
  user: {client-certificate-data: REVG, client-key-data: R0hJ}
`;
  it('points the cluster at a tunnel and pins the TLS name the API server certificate carries', () => {
    const out = rewriteKubeconfig(admin, 'https://127.0.0.1:61010', 'kubernetes');
    expect(serverOf(out)).toBe('https://127.0.0.1:61010');
    expect(out).toContain('tls-server-name: kubernetes');
    expect(out).toContain('client-key-data: R0hJ');
    expect(serverOf(rewriteKubeconfig(admin, 'https://192.168.56.10:6443'))).toBe('https://192.168.56.10:6443');
    expect(() => rewriteKubeconfig('kind: Config\n', 'https://x:1')).toThrow(/no clusters/);
  });

  it('tells a reachable port from an unreachable one', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as { port: number }).port;
    expect(await canReach('127.0.0.1', port)).toBe(true);
    srv.close();
    await new Promise((r) => srv.once('close', r));
    expect(await canReach('127.0.0.1', port, 1000)).toBe(false);
  });
});

describe('summary and progress', () => {
  it('prints node rows and phase times', async () => {
    const config = parseConfig('workers: {count: 1}\n');
    const plan = makePlan(config, await generateSecrets());
    const rows = summaryRows(plan, [{ name: 'm-k8s', role: 'control-plane', state: 'running' }], parseNodes(list([node('m-k8s', 'True')])));
    const text = formatSummary(rows, { version: 1, createdAt: '', secrets: { token: '', caCert: '', caKey: '' }, facts: {}, phases: { vms: { status: 'done', startedAt: '', seconds: 125 } } }, ['doctor', 'vms']);
    expect(text).toMatch(/^NODE\s+ROLE\s+IP\s+VM\s+KUBELET\s+STATUS\nm-k8s\s+control-plane\s+192\.168\.56\.10\s+running\s+v1\.34\.2\s+Ready\nw1-k8s\s+worker\s+192\.168\.56\.101\s+unknown\s+-\s+-\n/);
    expect(text).toMatch(/vms\s+done\s+2m05s/);
    expect(text).not.toMatch(/^doctor/m);
  });

  it('plain progress prints one line per change, with the phase and node', async () => {
    const lines: string[] = [];
    const p = new PlainProgress((l) => lines.push(l));
    p.phaseStart('vms', 'boot 2 VMs');
    p.step('m-k8s', 'Starting domain.');
    p.step('m-k8s', 'Starting domain.');
    p.step('w1-k8s', 'Waiting for domain to get an IP address...');
    await p.phaseEnd('vms', 'failed', 3, new Error('box missing\nmore'));
    expect(lines.map((l) => l.replace(/^\[\s*[\d.ms]+\] /, ''))).toEqual([
      'vms: boot 2 VMs',
      'vms: m-k8s: Starting domain.',
      'vms: w1-k8s: Waiting for domain to get an IP address...',
      'vms: FAILED in 3.0s: box missing',
    ]);
  });
});

describe('down on a lab that has nothing', () => {
  it('succeeds, removes nothing, keeps lab.yaml, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8slab-down-'));
    const configFile = join(dir, 'lab.yaml');
    writeFileSync(configFile, 'name: nothinghere\nprovider: libvirt\nworkers: {count: 1}\n');
    const config = parseConfig('name: nothinghere\nprovider: libvirt\nworkers: {count: 1}\n');
    const report = await down(await openLab({ labDir: join(dir, 'lab'), configFile }, config));
    expect(report.nothingToDo).toBe(true);
    expect(report.removed).toEqual({ vms: [], networks: [], volumes: [], files: [] });
    expect(report.left).toEqual({ vms: [], networks: [], volumes: [] });
    expect(existsSync(configFile)).toBe(true);

    // and through the CLI: exit 0 with a message
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'k8slab', 'down', '--config', configFile])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toContain('lab nothinghere: nothing to remove');
  });

  it('removes generated files of a lab that never got VMs, but not lab.yaml inside the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8slab-down-'));
    const labDir = join(dir, 'lab');
    mkdirSync(join(labDir, '.k8slab'), { recursive: true });
    mkdirSync(join(labDir, 'logs'));
    writeFileSync(join(labDir, 'logs', 'm-k8s.log'), 'x');
    writeFileSync(join(labDir, 'kubeconfig'), 'x');
    writeFileSync(join(labDir, 'lab.yaml'), 'name: inside\n');
    const config = parseConfig('name: inside\nprovider: virtualbox\n');
    const report = await down(await openLab({ labDir, configFile: join(labDir, 'lab.yaml') }, config));
    expect(report.removed.files.sort()).toEqual(['.k8slab', 'kubeconfig', 'logs']);
    expect(existsSync(join(labDir, 'lab.yaml'))).toBe(true);
    expect(report.nothingToDo).toBe(false);
  });
});
