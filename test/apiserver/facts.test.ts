// Capability detection against a real kube-apiserver, fed real evidence: Node objects with the status
// a kubelet would report (Ready or not, tainted, cordoned, arm64), a kube-dns Service with and without
// endpoints, the MetalLB CRD without a pool, a default StorageClass, and a real TCP listener standing
// in for a kubelet. Its own control plane: fake nodes must not attract the other tests' pods.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from './harness.js';
import { detectFacts } from '../../src/lessons/facts.js';
import { LessonContext } from '../../src/lessons/context.js';
import { DEFAULT_LESSON_SETTINGS, resolveImages } from '../../src/config/images.js';

let cp: ControlPlane;
let kubelet: Server;
let port = 0;
beforeAll(async () => {
  cp = await startControlPlane('facts');
  kubelet = createServer((s) => s.end());
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.2', r));
  port = (kubelet.address() as { port: number }).port;
}, 3_000_000); // a cold cache builds the Kubernetes binaries first (about 36 min on 2 cores)
afterAll(async () => {
  kubelet?.close();
  await cp?.down();
});

function node(name: string, ip: string, o: { ready?: boolean; arch?: string; labels?: object; unschedulable?: boolean; taints?: object[] } = {}) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: o.labels ?? {} },
    spec: { unschedulable: o.unschedulable ?? false, taints: o.taints ?? [] },
    status: {
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: ip }],
      nodeInfo: { architecture: o.arch ?? 'amd64', operatingSystem: 'linux', machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '', containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '' },
    },
  };
}

async function apply(objects: object[]): Promise<void> {
  const res = await cp.executor.run('kubectl apply -f -', { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  expect(res.exitCode, res.stderr).toBe(0);
}

function detect(extra: { probeImage?: string; probeTimeoutMs?: number } = {}) {
  const ctx = new LessonContext({
    lesson: 'facts',
    ns: '',
    timeScale: 1,
    manifestsDir: '',
    executor: cp.executor,
    images: resolveImages({}),
    settings: DEFAULT_LESSON_SETTINGS,
    facts: { capabilities: new Set(), missing: new Map(), off: new Map(), nodeIps: new Map(), schedulableNodes: [], arch: [] },
    applied: [],
  });
  return detectFacts(ctx, { kubeletPort: port, ...extra });
}

describe('detectFacts', () => {
  it('reads nodes, DNS, MetalLB, storage and reachability from what the cluster shows', async () => {
    await apply([
      node('fake-cp', '127.0.0.1', {
        labels: { 'node-role.kubernetes.io/control-plane': '' },
        taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
      }),
      node('fake-w1', '127.0.0.2', { arch: 'arm64' }),
      node('fake-w2', '127.0.0.3', { unschedulable: true }),
      node('fake-w3', '127.0.0.4', { ready: false }),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'ipaddresspools.metallb.io' },
        spec: {
          group: 'metallb.io',
          names: { kind: 'IPAddressPool', plural: 'ipaddresspools', singular: 'ipaddresspool', listKind: 'IPAddressPoolList' },
          scope: 'Namespaced',
          versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
        },
      },
    ]);
    const first = await detect();
    expect([...first.capabilities].sort()).toEqual(['nodes', 'workers']);
    expect(first.schedulableNodes).toEqual(['fake-w1']);
    expect(Object.fromEntries(first.nodeIps)).toEqual({ 'fake-cp': '127.0.0.1', 'fake-w1': '127.0.0.2', 'fake-w2': '127.0.0.3' });
    expect(first.arch).toEqual(['amd64', 'arm64']);
    expect(Object.fromEntries(first.missing)).toEqual({
      multiNode: 'only 1 schedulable node',
      podNetwork: 'no Ready kube-proxy pod in kube-system',
      dns: 'the kube-dns Service has no ready endpoint (no CoreDNS pod answers)',
      loadBalancer: 'MetalLB is installed but has no IPAddressPool',
      defaultStorageClass: 'no default StorageClass (0 StorageClasses)',
      ingress: 'no default IngressClass (0 IngressClasses): no Ingress controller is installed',
      hostNetwork: `this host cannot reach fake-cp (127.0.0.1), fake-w2 (127.0.0.3) on port ${port}`,
      internetImages: 'image pulls were not probed',
    });

    await apply([
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kube-dns', namespace: 'kube-system' }, subsets: [{ addresses: [{ ip: '192.0.2.53' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }] },
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'k8slab-test', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/none' },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'k8slab-test', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'example.com/none' } },
    ]);
    const second = await detect();
    expect(second.capabilities.has('ingress')).toBe(true);
    expect(first.off.get('ingress')).toBe('set addons.ingress.enabled: true in lab.yaml');
    expect(second.capabilities.has('dns')).toBe(true);
    expect(second.capabilities.has('defaultStorageClass')).toBe(true);
    expect(second.missing.has('dns')).toBe(false);

    // The pull probe: its pod lands on fake-w1, whose kubelet never starts it.
    const third = await detect({ probeImage: 'busybox', probeTimeoutMs: 6_000 });
    expect(third.missing.get('internetImages')).toBe('a pod with busybox did not start within 6s');
    const left = JSON.parse((await cp.executor.run('kubectl get namespaces -l k8slab.io/lesson=facts -o json')).stdout);
    expect(left.items.every((n: { metadata: { deletionTimestamp?: string } }) => n.metadata.deletionTimestamp !== undefined)).toBe(true);
  }, 120_000);
});
