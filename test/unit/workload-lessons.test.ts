// The pure parts of the services, volumes, workloads, statefulset and mysql lessons: reading watch streams
// and DNS answers, judging a scale-down order and session affinity, the PVs made for claims, image choices
// and skip reasons.
import { describe, expect, it } from 'vitest';
import { splitJsonStream } from '../../src/lessons/lesson-steps.js';
import { claimVolumes, scaleDownProblem } from '../../src/lessons/statefulset.js';
import { parseAddresses } from '../../src/lessons/probes.js';
import { rolloutTarget } from '../../src/lessons/workloads.js';
import { imageProblem } from '../../src/lessons/mysql.js';
import { DEFAULT_IMAGES, MYSQL_FLAVORS, resolveImages, type MysqlFlavor } from '../../src/config/images.js';
import { volumes } from '../../src/lessons/volumes.js';
import { workloads } from '../../src/lessons/workloads.js';
import { statefulset } from '../../src/lessons/statefulset.js';
import { mysql } from '../../src/lessons/mysql.js';
import { judgeAffinity } from '../../src/lessons/services.js';
import type { Capability } from '../../src/lessons/types.js';

describe('splitJsonStream', () => {
  it('splits pretty and compact documents, ignoring braces inside strings', () => {
    const text = '{"type":"ADDED","object":{"n":"a{b"}}\n{\n  "type": "DELETED",\n  "object": {"n": "c\\"}"}\n}\n';
    expect(splitJsonStream(text)).toEqual([
      { type: 'ADDED', object: { n: 'a{b' } },
      { type: 'DELETED', object: { n: 'c"}' } },
    ]);
  });
  it('drops a document cut off at the end (the watch timed out mid-write)', () => {
    expect(splitJsonStream('{"a":1}{"b":')).toEqual([{ a: 1 }]);
  });
});

describe('judgeAffinity', () => {
  const a = 'web-a';
  const b = 'web-b';
  it('holds when every answer names one pod', () => {
    expect(judgeAffinity({ answers: Array(10).fill(a), endpointsBefore: '7', endpointsAfter: '7' })).toEqual({ kind: 'held', pod: a });
  });
  it('is broken when the pod changes while the endpoints stay the same', () => {
    const v = judgeAffinity({ answers: [a, a, b, a], endpointsBefore: '7', endpointsAfter: '7' });
    expect(v).toEqual({ kind: 'broken', why: '4 requests from request-pod reached web-a, web-b while its endpoints stayed the same' });
  });
  it('asks again when the endpoints changed during the requests (a pod left and came back)', () => {
    const v = judgeAffinity({ answers: [a, a, a, a, b, b, b, b, b, b], endpointsBefore: '7', endpointsAfter: '9' });
    expect(v.kind).toBe('retry');
    expect(v).toHaveProperty('why', expect.stringContaining('resourceVersion 7 -> 9'));
  });
  it('holds with one pod even if the endpoints changed', () => {
    expect(judgeAffinity({ answers: [b, b], endpointsBefore: '7', endpointsAfter: '8' })).toEqual({ kind: 'held', pod: b });
  });
});

describe('scaleDownProblem', () => {
  const ev = (type: string, name: string, terminating = false) => ({
    type,
    object: { metadata: { name, ...(terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) }, spec: { containers: [] } },
  });
  const order = ['myweb-sts-2', 'myweb-sts-1'];

  it('accepts one at a time, highest first', () => {
    const events = [ev('ADDED', 'myweb-sts-2'), ev('MODIFIED', 'myweb-sts-2', true), ev('DELETED', 'myweb-sts-2', true), ev('MODIFIED', 'myweb-sts-1', true), ev('DELETED', 'myweb-sts-1', true)];
    expect(scaleDownProblem(events, order)).toBeUndefined();
  });
  it('rejects both terminating at once (podManagementPolicy Parallel)', () => {
    const events = [ev('MODIFIED', 'myweb-sts-2', true), ev('MODIFIED', 'myweb-sts-1', true), ev('DELETED', 'myweb-sts-1', true), ev('DELETED', 'myweb-sts-2', true)];
    expect(scaleDownProblem(events, order)).toBe('myweb-sts-1 started terminating before myweb-sts-2 was gone');
  });
  it('rejects the lower ordinal going first', () => {
    const events = [ev('DELETED', 'myweb-sts-1'), ev('DELETED', 'myweb-sts-2')];
    expect(scaleDownProblem(events, order)).toBe('myweb-sts-1 started terminating before myweb-sts-2 was gone');
  });
  it('says so when the watch missed a deletion', () => {
    expect(scaleDownProblem([ev('DELETED', 'myweb-sts-2')], order)).toBe('the watch never saw myweb-sts-1 deleted');
  });
});

describe('parseAddresses', () => {
  it('reads dig +short', () => {
    expect(parseAddresses('10.233.92.144\n10.233.90.96\n', 'dig')).toEqual(['10.233.90.96', '10.233.92.144']);
    expect(parseAddresses(';; connection timed out; no servers could be reached\n', 'dig')).toEqual([]);
  });
  it("reads bind's and busybox's nslookup, skipping the server's own address", () => {
    const bind = 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\tmyweb-sts-0.myweb-svc-headless.default.svc.cluster.local\nAddress: 10.233.90.96\n';
    expect(parseAddresses(bind, 'nslookup')).toEqual(['10.233.90.96']);
    const oldBusybox = 'Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\nName:      headless1\nAddress 1: 10.1.1.2 pod-a\nAddress 2: 10.1.1.3\n';
    expect(parseAddresses(oldBusybox, 'nslookup')).toEqual(['10.1.1.2', '10.1.1.3']);
    expect(parseAddresses("Server: 10.96.0.10\nAddress: 10.96.0.10#53\n\n** server can't find nothing: NXDOMAIN\n", 'nslookup')).toEqual([]);
  });
});

describe('claimVolumes', () => {
  it('pre-binds one Retain hostPath PV to each claim, pinned round-robin to the nodes', () => {
    const pvs = claimVolumes('k8slab-statefulset', ['w1', 'w2']) as {
      metadata: { name: string };
      spec: { claimRef: { namespace: string; name: string }; hostPath: { path: string }; persistentVolumeReclaimPolicy: string; nodeAffinity?: unknown };
    }[];
    expect(pvs.map((p) => [p.metadata.name, `${p.spec.claimRef.namespace}/${p.spec.claimRef.name}`, p.spec.hostPath.path])).toEqual([
      ['k8slab-statefulset-myweb-pvc-0', 'k8slab-statefulset/myweb-pvc-myweb-sts-vol-0', '/tmp/k8slab-statefulset-myweb-pvc-0'],
      ['k8slab-statefulset-myweb-pvc-1', 'k8slab-statefulset/myweb-pvc-myweb-sts-vol-1', '/tmp/k8slab-statefulset-myweb-pvc-1'],
      ['k8slab-statefulset-myweb-pvc-2', 'k8slab-statefulset/myweb-pvc-myweb-sts-vol-2', '/tmp/k8slab-statefulset-myweb-pvc-2'],
    ]);
    expect(pvs.every((p) => p.spec.persistentVolumeReclaimPolicy === 'Retain')).toBe(true);
    const nodeOf = (p: (typeof pvs)[number]) => JSON.stringify(p.spec.nodeAffinity).match(/"values":\["(\w+)"\]/)?.[1];
    expect(pvs.map(nodeOf)).toEqual(['w1', 'w2', 'w1']);
  });
  it('leaves the PVs unpinned when no node is known', () => {
    expect((claimVolumes('ns', []) as { spec: object }[]).every((p) => !('nodeAffinity' in p.spec))).toBe(true);
  });
});

describe('rolloutTarget', () => {
  it("rolls out to the course's myweb image by default", () => {
    expect(rolloutTarget(resolveImages({}))).toBe(DEFAULT_IMAGES.myweb);
  });
  it('takes the next distinct image when overrides merge myweb into app, and none when all merge', () => {
    expect(rolloutTarget(resolveImages({ app: 'k8slab.local/app:1', myweb: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1' }))).toBe('k8slab.local/tools:1');
    const same = Object.fromEntries(Object.keys(DEFAULT_IMAGES).map((k) => [k, 'one:1']));
    expect(rolloutTarget(resolveImages(same))).toBeUndefined();
  });
});

describe('imageProblem (MySQL)', () => {
  const caps = (...c: Capability[]) => new Set<Capability>(c);
  it('lets the course images run when the nodes pull from the Internet on amd64', () => {
    expect(imageProblem(DEFAULT_IMAGES, 'mysql', caps('internetImages'), ['amd64'])).toBeUndefined();
  });
  it('fails offline unless both images are overridden', () => {
    expect(imageProblem(DEFAULT_IMAGES, 'mysql', caps(), ['amd64'])).toMatch(/^mysql:5\.7 and gcr\.io\/google-samples\/xtrabackup:1\.0 come from the Internet.*images\.mysql and images\.xtrabackup/);
    expect(imageProblem({ mysql: 'mirror/mysql:5.7', xtrabackup: DEFAULT_IMAGES.xtrabackup }, 'mysql', caps(), ['amd64'])).toMatch(/^gcr\.io\/google-samples\/xtrabackup:1\.0 comes/);
    expect(imageProblem({ mysql: 'mirror/mysql:5.7', xtrabackup: 'mirror/xtrabackup:1.0' }, 'mysql', caps(), ['arm64'])).toBeUndefined();
  });
  it('fails the amd64-only defaults on arm64 nodes, pointing at the mariadb flavor', () => {
    expect(imageProblem(DEFAULT_IMAGES, 'mysql', caps('internetImages'), ['amd64', 'arm64'])).toMatch(/amd64 only and the cluster has arm64 nodes; set lessons\.mysql\.flavor: mariadb/);
  });
  it('mariadb: the multi-arch default runs on arm64; offline it needs images.mariadb, and only that', () => {
    expect(imageProblem(DEFAULT_IMAGES, 'mariadb', caps('internetImages'), ['amd64', 'arm64'])).toBeUndefined();
    expect(imageProblem(DEFAULT_IMAGES, 'mariadb', caps(), ['amd64'])).toBe(
      'mariadb:10.11 comes from the Internet, which the nodes cannot pull from; set images.mariadb in lab.yaml to a reachable copy',
    );
    expect(imageProblem({ ...DEFAULT_IMAGES, mariadb: 'docker.io/library/mariadb:10.11.19' }, 'mariadb', caps(), ['amd64'])).toBeUndefined();
  });
});

describe('the four lessons', () => {
  const lessons = [volumes, workloads, statefulset, mysql];
  it('have unique check ids and name their directory', () => {
    for (const l of lessons) {
      expect(new Set(l.checks.map((c) => c.id)).size, l.id).toBe(l.checks.length);
      expect(l.dir).toBe(l.id);
    }
  });
  it('mark what touches cluster-wide state as not parallel-safe', () => {
    expect(lessons.map((l) => [l.id, l.parallelSafe])).toEqual([
      ['volumes', false],
      ['workloads', false],
      ['statefulset', true],
      ['mysql', true],
    ]);
  });
});

describe('the mysql checks without pullable images', () => {
  // A FAKE context: the checks must decide to fail before any kubectl runs, so kubectl here throws.
  class Skipped extends Error {}
  class Failed extends Error {}
  const fakeContext = (images: Record<string, string>, caps: Capability[], flavor: MysqlFlavor = 'mariadb') =>
    ({
      ns: 'k8slab-mysql',
      images,
      settings: { mysql: { flavor } },
      facts: { capabilities: new Set(caps), missing: new Map(), nodeIps: new Map(), schedulableNodes: ['w1'], arch: ['amd64'] },
      skip: (reason: string) => {
        throw new Skipped(reason);
      },
      fail: (message: string) => {
        throw new Failed(message);
      },
      kubectl: () => {
        throw new Error('kubectl must not run');
      },
      kubectlJson: () => {
        throw new Error('kubectl must not run');
      },
      apply: () => {
        throw new Error('kubectl must not run');
      },
    }) as unknown as Parameters<(typeof mysql.checks)[number]['run']>[0];

  it('fails every check, touching nothing, when the flavor\'s images cannot be pulled: a skip is only for what lab.yaml turned off', async () => {
    for (const flavor of MYSQL_FLAVORS) {
      const ctx = fakeContext(resolveImages({}), ['nodes', 'dns', 'defaultStorageClass'], flavor);
      for (const check of mysql.checks) {
        await expect(check.run(ctx), check.id).rejects.toThrow(Failed);
        await expect(check.run(ctx), check.id).rejects.toThrow(/from the Internet/);
      }
    }
  });
  it('declares what it needs, so the runner skips it on a cluster without storage or DNS', () => {
    for (const check of mysql.checks) expect(check.needs, check.id).toEqual(['nodes', 'dns', 'defaultStorageClass']);
  });
});
