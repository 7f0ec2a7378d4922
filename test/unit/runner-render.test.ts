// Pure parts of the runner: manifest placeholders and labels, replayable command lines, output
// truncation, which capability a check lacks, and lesson selection.
import { describe, expect, it } from 'vitest';
import { parse } from 'shell-quote';
import { join } from 'node:path';
import { labelObjects, substitute, type ManifestObject } from '../../src/lessons/render.js';
import { MANIFESTS_DIR } from '../../src/paths.js';
import { commandLine } from '../../src/util/shell.js';
import { truncate } from '../../src/lessons/command.js';
import { missingNeed, namespaceFor, podHint } from '../../src/lessons/runner.js';
import { isReady, whyNotReady, type Pod } from '../../src/lessons/k8s.js';
import { LESSONS, selectLessons } from '../../src/lessons/index.js';
import { DEFAULT_IMAGES } from '../../src/config/images.js';
import { UserError } from '../../src/util/errors.js';
import { CheckFailed, CheckSkipped } from '../../src/lessons/context.js';
import { requireImages } from '../../src/lessons/probes.js';
import type { ClusterFacts } from '../../src/lessons/types.js';
import { noFacts, testContext } from '../lesson-context.js';

const vars = { images: { ...DEFAULT_IMAGES, app: 'mirror.local/app:1' }, namespace: 'k8slab-services', lesson: 'services' };

describe('substitute', () => {
  it('fills image, namespace and lesson placeholders', () => {
    const out = substitute('image: ${image.app}\nns: ${namespace}\nname: k8slab-${lesson}-x\ntools: ${ image.tools }\n', vars, 'f.yaml');
    expect(out).toBe('image: mirror.local/app:1\nns: k8slab-services\nname: k8slab-services-x\ntools: praqma/network-multitool\n');
  });

  it('names the file and line of an unknown placeholder and lists the known ones', () => {
    expect(() => substitute('a: 1\nimage: ${image.nope}\n', vars, 'manifests/x/pod.yaml')).toThrow(
      /^manifests\/x\/pod\.yaml:2: unknown placeholder \$\{image\.nope\}; use \$\{image\.<key>\} \(app, init, .*\), \$\{namespace\} or \$\{lesson\}/,
    );
    expect(() => substitute('x: ${NAMESPACE}', vars, 'f')).toThrow(/f:1: unknown placeholder/);
  });
});

describe('labelObjects', () => {
  it('adds the lesson label to every object, keeping existing labels and comments', () => {
    const { text, objects } = labelObjects(
      '# a comment\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: web\n---\nkind: ClusterRole\nmetadata:\n  name: k8slab-r\n---\n',
      'services',
      'f',
    );
    expect(objects).toEqual([
      { kind: 'Pod', name: 'p', clusterScoped: false },
      { kind: 'ClusterRole', name: 'k8slab-r', clusterScoped: true },
    ]);
    expect(text).toContain('# a comment');
    expect(text).toContain('  labels:\n    app: web\n    k8slab.io/lesson: services');
    expect(text).toContain('kind: ClusterRole\nmetadata:\n  name: k8slab-r\n  labels:\n    k8slab.io/lesson: services');
    expect(text).not.toContain('!!omap');
  });

  it('refuses what kubectl would misread or the runner would misplace', () => {
    expect(() => labelObjects('kind: Pod\nmetadata:\n  name: no\n', 'l', 'f')).toThrow(/Pod has no string metadata.name \(YAML 1.1 reads/);
    expect(() => labelObjects('kind: Pod\nmetadata:\n  name: p\n  namespace: default\n', 'l', 'f')).toThrow(/sets metadata.namespace/);
    expect(() => labelObjects('metadata:\n  name: p\n', 'l', 'f')).toThrow(/an object has no kind/);
    expect(() => labelObjects('- a\n- b\n', 'l', 'f')).toThrow(/must be a Kubernetes object/);
    expect(() => labelObjects('# nothing\n', 'l', 'f')).toThrow(/holds no object/);
    expect(() => labelObjects('kind: Pod\nmetadata: [\n', 'l', 'f')).toThrow(/^f: /);
  });
});

describe('commandLine', () => {
  it('leaves plain words plain, so the transcript reads as typed', () => {
    expect(commandLine(['kubectl', '-n', 'k8slab-services', 'get', 'svc', 'clusterip1', '-o', 'json'])).toBe(
      'kubectl -n k8slab-services get svc clusterip1 -o json',
    );
    expect(commandLine(['kubectl', 'scale', 'rs', 'x', '--replicas=3', '-l', 'a=b,c=d'])).toBe('kubectl scale rs x --replicas=3 -l a=b,c=d');
  });

  it('quotes anything a shell would read differently, and the shell reads it back unchanged', () => {
    const argv = ['kubectl', 'exec', 'p', '--', 'sh', '-c', "echo 'hi' $HOME; rm -rf *", 'a b', '{.spec}', '~', '', 'x"y'];
    const line = commandLine(argv);
    expect(parse(line, { HOME: 'EXPANDED' })).toEqual(argv);
  });
});

describe('truncate', () => {
  it('keeps short output and cuts long output in the middle, saying how much', () => {
    expect(truncate('short', 100)).toBe('short');
    const long = 'a'.repeat(300) + 'b'.repeat(300);
    const cut = truncate(long, 100);
    expect(cut.startsWith('a'.repeat(75))).toBe(true);
    expect(cut.endsWith('b'.repeat(25))).toBe(true);
    expect(cut).toContain('[500 characters cut]');
  });
});

describe('missingNeed', () => {
  const facts: ClusterFacts = {
    capabilities: new Set(['nodes', 'podNetwork']),
    missing: new Map([
      ['dns', 'no kube-dns Service in kube-system'],
      ['loadBalancer', 'MetalLB is not installed, so no LoadBalancer implementation'],
    ]),
    off: new Map([['loadBalancer', 'set addons.metallb.enabled: true in lab.yaml']]),
    nodeIps: new Map(),
    schedulableNodes: [],
    arch: [],
  };
  it('fails a check that lacks what a working lab has, with the reason and the next command', () => {
    const need = missingNeed({ needs: ['nodes', 'dns'] }, facts);
    expect(need).toMatchObject({ cap: 'dns', status: 'failed', reason: 'the cluster lacks dns: no kube-dns Service in kube-system' });
    expect(need?.hint).toContain('kubectl -n kube-system get pods -l k8s-app=kube-dns');
  });
  it('skips only for what the lab was configured without, naming the lab.yaml change', () => {
    expect(missingNeed({ needs: ['loadBalancer'] }, facts)).toEqual({
      cap: 'loadBalancer',
      status: 'skipped',
      reason: 'this lab has no loadBalancer (MetalLB is not installed, so no LoadBalancer implementation); to run it: set addons.metallb.enabled: true in lab.yaml',
    });
    // a broken capability wins over one that is off: the check fails
    expect(missingNeed({ needs: ['loadBalancer', 'dns'] }, facts)?.status).toBe('failed');
    // a capability missing without a reason and not off is a failure too
    expect(missingNeed({ needs: ['hostNetwork'] }, facts)).toMatchObject({ status: 'failed', reason: 'the cluster lacks hostNetwork: not available' });
  });
  it('lets a check run when nothing it needs is missing', () => {
    expect(missingNeed({ needs: ['nodes', 'podNetwork'] }, facts)).toBeUndefined();
    expect(missingNeed({}, facts)).toBeUndefined();
  });
});

describe('lesson registry', () => {
  it('has unique lesson ids, unique check ids per lesson, and namespaces that are valid names', () => {
    const ids = LESSONS.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const l of LESSONS) {
      const checks = l.checks.map((c) => c.id);
      expect(new Set(checks).size, l.id).toBe(checks.length);
      expect(namespaceFor(l)).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(checks).not.toContain('cleanup');
    }
  });

  it('selects by name in registry order, all by default, and refuses unknown names with a suggestion', () => {
    expect(selectLessons(['access', 'services']).map((l) => l.id)).toEqual(['services', 'access']);
    expect(selectLessons([])).toHaveLength(LESSONS.length);
    try {
      selectLessons(['servics']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).errorKind).toBe('usage');
      expect((err as UserError).hint).toContain('did you mean "services"?');
    }
  });

  it('starts with the cluster lesson and proves at least 60 checks in all (issue 10)', () => {
    expect(LESSONS[0]!.id).toBe('cluster');
    expect(LESSONS.reduce((n, l) => n + l.checks.length, 0)).toBeGreaterThanOrEqual(60);
  });

  it('selects single checks as LESSON/CHECK, in the lesson order; a whole lesson named too wins; unknown checks get a suggestion', () => {
    const picked = selectLessons(['services/session-affinity', 'access', 'services/nodeport-answers']);
    expect(picked.map((l) => [l.id, l.checks.map((c) => c.id)])).toEqual([
      ['services', ['nodeport-answers', 'session-affinity']],
      ['access', LESSONS.find((l) => l.id === 'access')!.checks.map((c) => c.id)],
    ]);
    // the registry's lessons are left whole
    expect(LESSONS.find((l) => l.id === 'services')!.checks.length).toBeGreaterThan(2);
    expect(selectLessons(['services/headless-dns', 'services'])[0]!.checks).toBe(LESSONS.find((l) => l.id === 'services')!.checks);
    expect(() => selectLessons(['services/nodeport-answer'])).toThrow(UserError);
    try {
      selectLessons(['services/nodeport-answer']);
    } catch (err) {
      expect((err as UserError).message).toBe('lesson services has no check "nodeport-answer"');
      expect((err as UserError).errorKind).toBe('usage');
      expect((err as UserError).hint).toContain('did you mean "services/nodeport-answers"?');
    }
    expect(() => selectLessons(['servics/nodeport-answers'])).toThrow('unknown lesson "servics"');
  });
});

describe('requireImages', () => {
  const ctxWith = (images: Partial<Record<keyof typeof DEFAULT_IMAGES, string>>, caps: string[], arch: string[]) =>
    testContext({
      images: { ...DEFAULT_IMAGES, ...images },
      facts: {
        ...noFacts(),
        capabilities: new Set(caps) as ClusterFacts['capabilities'],
        missing: new Map([['internetImages', 'cannot pull busybox: ErrImagePull']]),
        arch,
      },
    });
  const outcome = (f: () => void) => {
    try {
      f();
      return 'runs';
    } catch (err) {
      if (err instanceof CheckFailed) return `failed: ${err.message} -> ${err.hint ?? ''}`;
      return err instanceof CheckSkipped ? `skipped: ${err.message}` : `threw ${String(err)}`;
    }
  };

  it('fails (never skips) when a course image cannot be pulled or has no build for a node architecture', () => {
    expect(outcome(() => requireImages(ctxWith({}, [], ['amd64']), ['app']))).toBe(
      'failed: kubetm/app comes from the Internet and the nodes cannot pull it (cannot pull busybox: ErrImagePull) -> set images.app in lab.yaml to a copy the nodes can pull (a local registry or the offline bundle)',
    );
    expect(outcome(() => requireImages(ctxWith({}, ['internetImages'], ['amd64', 'arm64']), ['app']))).toBe(
      'failed: kubetm/app exists for amd64 only and the cluster has arm64 nodes -> set images.app in lab.yaml to a multi-arch image',
    );
    expect(outcome(() => requireImages(ctxWith({}, ['internetImages'], ['amd64']), ['app', 'tools']))).toBe('runs');
  });

  it('trusts an image the user overrode (a mirror or a local image)', () => {
    expect(outcome(() => requireImages(ctxWith({ app: 'k8slab.local/app:1' }, [], ['arm64']), ['app']))).toBe('runs');
  });
});

describe('LessonContext apply operations', () => {
  // A FAKE executor: it answers every kubectl with success and keeps what was fed to `apply -f -`.
  const fake = () => {
    const inputs: string[] = [];
    return {
      inputs,
      executor: {
        name: 'fake',
        run: async (_command: string, opts?: { input?: string }) => {
          if (opts?.input !== undefined) inputs.push(opts.input);
          return { stdout: '', stderr: '', exitCode: 0 };
        },
      },
    };
  };

  it('records what apply (with a change) and applyObjects applied, labelled with the lesson, for diagnostics and the early release', async () => {
    const { inputs, executor } = fake();
    const applied: ManifestObject[] = [];
    const ctx = testContext({ lesson: 'volumes', ns: 'k8slab-volumes', manifestsDir: join(MANIFESTS_DIR, 'volumes'), executor, applied });
    const refs = await ctx.apply('pod-volume-2.yaml', { change: (obj) => ((obj['spec'] as Record<string, unknown>)['nodeName'] = 'w1-k8s') });
    expect(refs).toEqual(['pod/pod-volume-2']);
    await ctx.applyObjects([{ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'k8slab-volumes-x' }, spec: {} }], 'pv x');
    expect(applied).toEqual([
      { kind: 'Pod', name: 'pod-volume-2', clusterScoped: false },
      { kind: 'PersistentVolume', name: 'k8slab-volumes-x', clusterScoped: true },
    ]);
    expect(inputs[0]).toContain('nodeName: w1-k8s');
    for (const input of inputs) expect(input).toContain('k8slab.io/lesson: volumes');
  });
});

describe('a failure says the likely cause and the next command (podHint, whyNotReady)', () => {
  const pod = (status: Pod['status'], nodeName?: string): Pod => ({
    metadata: { name: 'web-1' },
    spec: { containers: [{ name: 'app', image: 'kubetm/app' }], ...(nodeName ? { nodeName } : {}) },
    status,
  });
  const waiting = (reason: string, message?: string) => ({
    phase: 'Pending',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }],
  });

  it('reads an image pull failure, a crash loop, an unscheduled pod and a failing readiness probe', () => {
    expect(podHint(pod(waiting('ImagePullBackOff', 'Back-off pulling image "kubetm/app"'), 'w1-k8s'), 'k8slab-services')).toBe(
      'pod web-1 cannot pull its image (Pending, app ImagePullBackOff (Back-off pulling image "kubetm/app")): the node has no route to the registry or the name is wrong; set images.* in lab.yaml to a reachable copy, and see `kubectl -n k8slab-services describe pod web-1`',
    );
    const crash = {
      phase: 'Running',
      containerStatuses: [{ name: 'app', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }],
    };
    expect(podHint(pod(crash, 'w1-k8s'), 'ns')).toBe('pod web-1 keeps ending (Running, app CrashLoopBackOff): see `kubectl -n ns logs web-1 --previous`');
    const unscheduled = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available: 3 Insufficient memory.' }] };
    expect(whyNotReady(pod(unscheduled))).toBe('Pending, not scheduled (0/3 nodes are available: 3 Insufficient memory.)');
    expect(podHint(pod(unscheduled), 'ns')).toMatch(/^pod web-1 was never scheduled .*: no node can take it; see `kubectl get nodes` and `kubectl -n ns describe pod web-1`$/);
    const unready = { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { running: {} } }] };
    expect(podHint(pod(unready, 'w2-k8s'), 'ns')).toBe('pod web-1 runs but is not Ready (Running): its readiness probe fails; see `kubectl -n ns describe pod web-1` and `kubectl -n ns logs web-1`');
  });

  it('counts a pod as Ready only when it runs and says Ready (one isReady for every lesson)', () => {
    const ready = [{ type: 'Ready', status: 'True' }];
    expect(isReady(pod({ phase: 'Running', conditions: ready }))).toBe(true);
    // a finished pod keeps its last Ready condition for a while: it serves nothing
    expect(isReady(pod({ phase: 'Succeeded', conditions: ready }))).toBe(false);
    expect(isReady(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }))).toBe(false);
  });
});
