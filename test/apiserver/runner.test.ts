// The runner on a real kube-apiserver (no nodes): namespaces, skip reasons from the detected facts,
// failures with diagnostics, timeouts, cleanup in every case, bounded parallelism; every manifest
// accepted by `kubectl apply --dry-run=server`; and `k8slab verify --kubeconfig` end to end.
import { readdirSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from './harness.js';
import { runLessons, type RunEvent } from '../../src/lessons/runner.js';
import { resolveImages } from '../../src/config/images.js';
import { labelObjects, substitute } from '../../src/lessons/render.js';
import { MANIFESTS_DIR } from '../../src/paths.js';
import type { Check, Lesson } from '../../src/lessons/types.js';
import { runCli, type CliRun } from '../cli-run.js';
import { kubectlOn } from '../../src/cluster/kubectl.js';
import { localExecutor } from '../../src/nodes/executors.js';
import { access } from '../../src/lessons/access.js';

const images = resolveImages({ app: 'k8slab.local/app:1', tools: 'k8slab.local/tools:1' });

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane('runner');
}, 3_000_000); // a cold cache builds the Kubernetes binaries first (about 36 min on 2 cores)
afterAll(async () => {
  await cp?.down();
});

const kubectl = (args: string) => cp.executor.run(`kubectl ${args}`);
const exists = async (args: string) => (await kubectl(`get ${args} -o json`)).exitCode === 0;

function lesson(id: string, checks: Check[], extra: Partial<Lesson> = {}): Lesson {
  return { id, title: `test lesson ${id}`, source: 'test', dir: 'services', parallelSafe: true, checks, ...extra };
}
const mustNotRun = async () => {
  throw new Error('a check whose capability is missing must not run');
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Independent lessons (own namespaces): these run side by side to keep the tier short.
describe.concurrent('runner', () => {
  describe('capabilities and skips', () => {
    it('fails checks whose capability a lab always has, skips those the lab was configured without (naming lab.yaml), and runs the rest', async () => {
      const run = await runLessons({
        executor: cp.executor,
        images,
        lessons: [
          lesson('rn-skips', [
            { id: 'dns', title: 'needs DNS', needs: ['dns'], run: mustNotRun },
            { id: 'nodes', title: 'needs nodes', needs: ['nodes'], run: mustNotRun },
            { id: 'lb', title: 'needs a load balancer', needs: ['loadBalancer'], run: mustNotRun },
            { id: 'sc', title: 'needs a default StorageClass', needs: ['defaultStorageClass'], run: mustNotRun },
            { id: 'host', title: 'needs the host to reach nodes', needs: ['hostNetwork'], run: mustNotRun },
            {
              id: 'self',
              title: 'skips itself',
              run: async (ctx) => {
                await ctx.kubectl(['get', 'serviceaccount', 'default', '-o', 'json']);
                ctx.skip('the lesson decided it cannot tell here');
              },
            },
          ]),
        ],
      });
      const reasons = Object.fromEntries(run.results.map((r) => [r.check, `${r.status}: ${r.reason ?? ''}`]));
      expect(reasons).toEqual({
        dns: 'failed: the cluster lacks dns: no kube-dns Service in kube-system (CoreDNS is not installed)',
        nodes: 'failed: the cluster lacks nodes: no Ready node (the cluster lists 0 nodes)',
        lb: 'skipped: this lab has no loadBalancer (MetalLB is not installed, so no LoadBalancer implementation); to run it: set addons.metallb.enabled: true in lab.yaml',
        sc: 'skipped: this lab has no defaultStorageClass (no default StorageClass (0 StorageClasses)); to run it: set addons.storage.provider: local-path (or nfs) in lab.yaml',
        host: 'failed: the cluster lacks hostNetwork: no Ready node (the cluster lists 0 nodes)',
        self: 'skipped: the lesson decided it cannot tell here',
      });
      expect(run.results.find((r) => r.check === 'self')!.transcript[0]!.command).toBe('kubectl -n k8slab-rn-skips get serviceaccount default -o json');
      expect(run.facts.capabilities.size).toBe(0);
      expect(run.factsTranscript.map((t) => t.command)).toContain('kubectl get nodes -o json');
    }, 120_000);

    it('does not even create the namespace when every check would be skipped', async () => {
      const events: RunEvent[] = [];
      const run = await runLessons({
        executor: cp.executor,
        images,
        lessons: [lesson('rn-allskip', [{ id: 'x', title: 'needs nodes', needs: ['nodes'], run: mustNotRun }])],
        onEvent: (e) => events.push(e),
      });
      expect(run.lessons[0]!.setup).toEqual([]);
      expect(events.at(-1)).toEqual({ type: 'lesson-end', lesson: 'rn-allskip', cleanup: 'not needed' });
      expect(await exists('namespace k8slab-rn-allskip')).toBe(false);
    }, 60_000);
  });

  describe('namespaces and cleanup', () => {
    it('puts the objects in k8slab-<lesson> with the lesson label, keeps them with keep, and clears leftovers on the next run', async () => {
      const check: Check = {
        id: 'apply',
        title: 'applies clusterip.yaml',
        run: async (ctx) => {
          expect(ctx.ns).toBe('k8slab-rn-keep');
          expect(await ctx.apply('clusterip.yaml')).toEqual(['service/clusterip1', 'pod/pod1']);
        },
      };
      const first = await runLessons({ executor: cp.executor, images, lessons: [lesson('rn-keep', [check])], keep: true });
      expect(first.results[0]!.status).toBe('passed');
      const svc = JSON.parse((await kubectl('-n k8slab-rn-keep get service clusterip1 -o json')).stdout);
      expect(svc.metadata.labels).toEqual({ 'k8slab.io/lesson': 'rn-keep' });
      const ns = JSON.parse((await kubectl('get namespace k8slab-rn-keep -o json')).stdout);
      expect(ns.metadata.labels['k8slab.io/lesson']).toBe('rn-keep');

      const second = await runLessons({ executor: cp.executor, images, lessons: [lesson('rn-keep', [check])] });
      expect(second.results[0]!.status).toBe('passed');
      expect(second.lessons[0]!.setup.map((t) => t.command)).toContain('kubectl -n k8slab-rn-keep delete namespace k8slab-rn-keep --wait=true --timeout=180s');
      expect(await exists('namespace k8slab-rn-keep')).toBe(false);
    }, 240_000);

    it('fails a throwing check with diagnostics, runs the next check, and still deletes namespace and cluster-scoped objects', async () => {
      const run = await runLessons({
        executor: cp.executor,
        images,
        lessons: [
          lesson(
            'rn-fail',
            [
              {
                id: 'boom',
                title: 'throws after applying',
                run: async (ctx) => {
                  await ctx.apply('rbac.yaml');
                  throw new Error('boom');
                },
              },
              { id: 'after', title: 'runs after a failure', run: async (ctx) => void (await ctx.kubectl(['get', 'role', 'pod-reader', '-o', 'json'])) },
            ],
            { dir: 'access' },
          ),
        ],
      });
      const [boom, after] = run.results;
      expect(boom!.status).toBe('failed');
      expect(boom!.reason).toBe('boom');
      const commands = boom!.transcript.map((t) => t.command);
      expect(commands).toContain('kubectl -n k8slab-rn-fail get events -o json');
      expect(commands).toContain('kubectl -n k8slab-rn-fail describe role/pod-reader');
      expect(commands.some((c) => c.includes('describe clusterrole'))).toBe(false);
      expect(after!.status).toBe('passed');
      expect(await exists('namespace k8slab-rn-fail')).toBe(false);
      expect(await exists('clusterrole k8slab-rn-fail-node-reader')).toBe(false);
      expect(await exists('clusterrolebinding k8slab-rn-fail-node-reader')).toBe(false);
      expect(run.lessons[0]!.cleanup.map((t) => t.command).join('\n')).toMatch(/delete persistentvolumes,.*clusterroles.* -l k8slab.io\/lesson=rn-fail/);
    }, 240_000);

    it('with independentChecks, deletes what a check applied when it ends (after its diagnostics); without, leaves it for the next check', async () => {
      const seen: Record<string, boolean> = {};
      const checks = (id: string): Check[] => [
        {
          id: 'boom',
          title: 'applies, then fails',
          run: async (ctx) => {
            await ctx.apply('rbac.yaml');
            throw new Error('boom');
          },
        },
        {
          id: 'next',
          title: 'looks for the role the previous check applied',
          run: async (ctx) => {
            seen[id] = (await ctx.kubectl(['get', 'role', 'pod-reader', '-o', 'json'], { allowFailure: true })).exitCode === 0;
            seen[`${id}-cluster`] = (await ctx.kubectl(['get', 'clusterrole', `k8slab-${id}-node-reader`, '-o', 'json'], { allowFailure: true })).exitCode === 0;
          },
        },
      ];
      const run = await runLessons({
        executor: cp.executor,
        images,
        lessons: [
          lesson('rn-release', checks('rn-release'), { dir: 'access', independentChecks: true }),
          lesson('rn-norelease', checks('rn-norelease'), { dir: 'access' }),
        ],
      });
      expect(seen).toEqual({ 'rn-release': false, 'rn-release-cluster': true, 'rn-norelease': true, 'rn-norelease-cluster': true });
      const boom = run.results.find((r) => r.lesson === 'rn-release' && r.check === 'boom')!;
      const commands = boom.transcript.map((t) => t.command);
      expect(commands.indexOf('kubectl -n k8slab-rn-release describe role/pod-reader')).toBeGreaterThan(-1);
      expect(commands.at(-1)).toBe('kubectl -n k8slab-rn-release delete serviceaccount/reader role/pod-reader rolebinding/reader-pods --ignore-not-found --wait=false');
      expect(run.results.find((r) => r.lesson === 'rn-norelease' && r.check === 'boom')!.transcript.some((t) => t.command.includes(' delete '))).toBe(false);
      // released or not, the lesson's cleanup still removes everything
      for (const id of ['rn-release', 'rn-norelease']) {
        expect(await exists(`namespace k8slab-${id}`)).toBe(false);
        expect(await exists(`clusterrole k8slab-${id}-node-reader`)).toBe(false);
      }
    }, 240_000);

    it('fails every check when setup fails, and cleans up', async () => {
      const run = await runLessons({
        executor: cp.executor,
        images,
        lessons: [
          lesson('rn-setup', [{ id: 'a', title: 'a', run: async () => {} }, { id: 'b', title: 'b', run: async () => {} }], {
            setup: async (ctx) => void (await ctx.apply('no-such-file.yaml')),
          }),
        ],
      });
      expect(run.results.map((r) => r.status)).toEqual(['failed', 'failed']);
      expect(run.results[0]!.reason).toMatch(/^lesson setup failed: .*no-such-file\.yaml/);
      expect(await exists('namespace k8slab-rn-setup')).toBe(false);
    }, 120_000);

    it('ends a hanging check at its timeout as failed, stops its later commands, and reports a failing cleanup', async () => {
      let afterTimeout: unknown;
      const run = await runLessons({
        executor: cp.executor,
        images,
        checkTimeoutMs: 2_000,
        lessons: [
          lesson(
            'rn-hang',
            [
              {
                id: 'hang',
                title: 'waits for something that never happens',
                run: async (ctx) => {
                  await sleep(3_000);
                  // The runner gave up a second ago: this command must not reach the cluster.
                  afterTimeout = await ctx.kubectl(['create', 'configmap', 'late']).catch((e: Error) => e.name);
                },
              },
            ],
            { cleanup: async () => Promise.reject(new Error('cleanup broke')) },
          ),
        ],
      });
      expect(run.results[0]).toMatchObject({ check: 'hang', status: 'failed', reason: 'check hang timed out after 2s' });
      expect(run.results[1]).toMatchObject({ check: 'cleanup', status: 'failed' });
      expect(run.results[1]!.reason).toMatch(/lesson cleanup: .*cleanup broke/);
      await vi.waitFor(() => expect(afterTimeout).toBe('CheckAborted'), { timeout: 5_000 });
      expect(await exists('namespace k8slab-rn-hang')).toBe(false);
    }, 120_000);
  });

  describe('interruption', () => {
    it('on Ctrl-C ends the running check as failed, skips the rest, and still cleans up', async () => {
      const controller = new AbortController();
      const run = await runLessons({
        executor: cp.executor,
        images,
        concurrency: 1,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'check-start') setTimeout(() => controller.abort(), 1_000);
        },
        lessons: [
          lesson('rn-int-a', [
            { id: 'waits', title: 'waits for ever', run: async (ctx) => void (await ctx.waitFor('nothing', async () => undefined)) },
            { id: 'next', title: 'never starts', run: mustNotRun },
          ]),
          lesson('rn-int-b', [{ id: 'other', title: 'never starts', run: mustNotRun }]),
        ],
      });
      expect(run.results.map((r) => [r.check, r.status, r.reason])).toEqual([
        ['waits', 'failed', 'check waits: interrupted (Ctrl-C)'],
        ['next', 'skipped', 'interrupted (Ctrl-C)'],
        ['other', 'skipped', 'interrupted (Ctrl-C)'],
      ]);
      expect(run.lessons[1]!.setup).toEqual([]);
      expect(await exists('namespace k8slab-rn-int-a')).toBe(false);
    }, 120_000);
  });

  describe('parallelism', () => {
    it('runs lessons that touch cluster-wide state alone first, then parallel-safe ones side by side within the bound', async () => {
      const slow: Check = { id: 'slow', title: 'takes a moment', run: async () => sleep(1_500) };
      const events: string[] = [];
      await runLessons({
        executor: cp.executor,
        images,
        concurrency: 2,
        lessons: [lesson('rn-p1', [slow]), lesson('rn-p2', [slow]), lesson('rn-p3', [slow]), lesson('rn-alone', [slow], { parallelSafe: false })],
        onEvent: (e) => {
          if (e.type === 'lesson-start') events.push(`start ${e.lesson}`);
          if (e.type === 'lesson-end') events.push(`end ${e.lesson}`);
        },
      });
      expect(events.slice(0, 2)).toEqual(['start rn-alone', 'end rn-alone']);
      const rest = events.slice(2);
      // p1 and p2 overlap; p3 waits for a free lane.
      expect(rest.slice(0, 2).sort()).toEqual(['start rn-p1', 'start rn-p2']);
      expect(rest.indexOf('start rn-p3')).toBeGreaterThan(Math.min(rest.indexOf('end rn-p1'), rest.indexOf('end rn-p2')));
    }, 240_000);
  });

  describe('manifests', () => {
    const dirs = readdirSync(MANIFESTS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory());
    const files = dirs.flatMap((d) =>
      readdirSync(join(MANIFESTS_DIR, d.name))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => ({ dir: d.name, file: f })),
    );

    it('covers every lesson directory', () => {
      expect(dirs.map((d) => d.name)).toEqual(expect.arrayContaining(['cluster', 'services', 'access']));
      expect(files.length).toBeGreaterThan(10);
    });

    it('every manifest is valid YAML before substitution and accepted by kubectl apply --dry-run=server after it', async () => {
      const ns = 'k8slab-dryrun';
      await kubectl(`create namespace ${ns}`);
      const rejected: string[] = [];
      const check = async ({ dir, file }: { dir: string; file: string }) => {
        const raw = readFileSync(join(MANIFESTS_DIR, dir, file), 'utf8');
        for (const doc of parseAllDocuments(raw, { version: '1.1' }) as { errors: unknown[] }[]) expect(doc.errors, `${dir}/${file}`).toEqual([]);
        const where = `manifests/${dir}/${file}`;
        const { text } = labelObjects(substitute(raw, { images, namespace: ns, lesson: dir }, where), dir, where);
        const res = await cp.executor.run(`kubectl -n ${ns} apply --dry-run=server -f -`, { input: text });
        if (res.exitCode !== 0) rejected.push(`${where}: ${res.stderr.trim()}`);
      };
      // A few kubectl processes at a time: this machine has 2 cores.
      for (let i = 0; i < files.length; i += 4) await Promise.all(files.slice(i, i + 4).map(check));
      expect(rejected).toEqual([]);
    }, 180_000);
  });
});

// Sequential: these capture process.stdout.
describe.sequential('k8slab verify --kubeconfig', () => {
  async function cli(args: string[]): Promise<CliRun> {
    const path = process.env.PATH;
    process.env.PATH = `${cp.bin}:${path ?? ''}`;
    try {
      return await runCli(...args);
    } finally {
      process.env.PATH = path;
    }
  }
  const noLab = ['--config', '/nonexistent/k8slab-test/lab.yaml'];

  it('runs a lesson, prints JSON, writes JUnit, shows progress on stderr, and exits 0', async () => {
    const junit = join(mkdtempSync(join(tmpdir(), 'k8slab-junit-')), 'report.xml');
    const r = await cli(['verify', ...noLab, '--kubeconfig', cp.kubeconfig, '--lesson', 'access/sa-token', 'access/rbac-role', 'access/rbac-clusterrole', '--json', '--junit', junit]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.results.map((x: { check: string; status: string }) => `${x.check}:${x.status}`)).toEqual(['sa-token:passed', 'rbac-role:passed', 'rbac-clusterrole:passed']);
    expect(r.err).toMatch(/▶ access \(namespace k8slab-access\)/);
    expect(r.err).toMatch(/✓ access\/rbac-role passed/);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junit, 'utf8'));
    expect(xml.testsuites.tests).toBe('3');
    expect(xml.testsuites.testsuite.testcase).toHaveLength(3);
  }, 180_000);

  it('exits 1 with the text report and the failed transcript when a check fails', async () => {
    // Another Service already holds nodePort 30000, so the lesson's svc-2 cannot have it.
    await kubectl(`create service nodeport squatter --tcp=9000:8080 --node-port=30000`);
    try {
      const r = await cli(['verify', ...noLab, '--kubeconfig', cp.kubeconfig, '--lesson', 'services']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^--- services\/nodeport-allocated: .*\nfailed: .*already allocated/m);
      expect(r.out).toMatch(/^likely cause and next step: /m);
      expect(r.out).toContain(`replay (export KUBECONFIG=${cp.kubeconfig})`);
      expect(r.out).toMatch(/^\$ kubectl create namespace k8slab-services\n\n\$ kubectl -n k8slab-services apply -f - <<'EOF'/m);
      // Diagnostics: the namespace's events are read into the transcript.
      expect(r.out).toMatch(/^\$ kubectl -n k8slab-services get events -o json$/m);
      expect(r.out).toMatch(/^ {2}✗ nodeport-allocated\s+FAILED: /m);
      expect(r.out).toMatch(/^ {2}✓ loadbalancer-pending\s+\S/m);
      expect(r.out).toMatch(/^\d+ passed, \d+ failed, \d+ skipped in \d+s$/m);
    } finally {
      await kubectl('delete service squatter');
    }
  }, 240_000);

  // Issue 10's central promise: a control plane with no nodes, no pod network and no DNS is not green.
  it('exits 1 against a control plane with no nodes, naming the failed cluster checks', async () => {
    const r = await cli(['verify', ...noLab, '--kubeconfig', cp.kubeconfig, '--lesson', 'cluster']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/^ {2}✗ nodes-ready\s+FAILED: the cluster has no node: no kubelet has registered$/m);
    expect(r.out).toMatch(/^ {2}✗ system-pods-ready\s+FAILED: no CoreDNS pod \(k8s-app=kube-dns\); no kube-proxy pod/m);
    for (const check of ['dns-kubernetes-default', 'pod-to-pod', 'node-to-pod', 'service-by-name']) {
      expect(r.out).toMatch(new RegExp(`^ {2}✗ ${check}\\s+FAILED: the cluster lacks nodes: no Ready node \\(the cluster lists 0 nodes\\)$`, 'm'));
    }
    expect(r.out).toMatch(/^ {2}✗ kube-proxy-every-node\s+FAILED: no node is Ready, so no kube-proxy runs$/m);
    expect(r.out).toMatch(/^0 passed, 7 failed, 0 skipped in \d+s$/m);
    expect(r.out).not.toContain('SKIPPED');
  }, 120_000);

  it('skips only what the lab was configured without, names the lab.yaml change, and --strict fails on it', async () => {
    // No StorageClass here and no lab.yaml: dynamic provisioning is "configured without", a skip.
    const loose = await cli(['verify', ...noLab, '--kubeconfig', cp.kubeconfig, '--lesson', 'volumes/dynamic-delete']);
    expect(loose.code, loose.out).toBe(0);
    expect(loose.out).toContain('1 SKIPPED: this check did not run, so the lab is not proven for them\n  - volumes/dynamic-delete: this lab has no defaultStorageClass');
    expect(loose.out).toContain('to run it: set addons.storage.provider: local-path (or nfs) in lab.yaml');
    const strict = await cli(['verify', ...noLab, '--kubeconfig', cp.kubeconfig, '--lesson', 'volumes/dynamic-delete', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain('(--strict: the run fails)');
  }, 120_000);

  it('runs through the control-plane wrapper the SSH path uses (KUBECONFIG exported in the command)', async () => {
    const bare = localExecutor({ env: { PATH: `${cp.bin}:${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' } });
    const apiOnly = access.checks.filter((c) => c.needs === undefined);
    const run = await runLessons({ executor: kubectlOn(bare, { kubeconfig: cp.kubeconfig, sudo: false }), images, lessons: [{ ...access, id: 'rn-wrapped', checks: apiOnly }] });
    expect(run.results.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
    expect(run.results[0]!.transcript[0]!.command).toMatch(/^kubectl -n k8slab-rn-wrapped /);
  }, 120_000);

  it('says it cannot talk to the cluster (exit 1) when the API server does not answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8slab-kc-'));
    const kc = join(dir, 'kubeconfig');
    writeFileSync(kc, readFileSync(cp.kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/, 'server: https://127.0.0.1:1'));
    const r = await cli(['verify', ...noLab, '--kubeconfig', kc, '--lesson', 'access']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/k8slab: cannot talk to the cluster: `kubectl get nodes -o json` exited 1: .*127\.0\.0\.1:1/);
    expect(r.err).toContain(`fix: check ${kc}`);
  }, 60_000);

  it('lists the lessons, and refuses an unknown one with a hint (exit 2)', async () => {
    const list = await cli(['verify', '--list', '--json']);
    expect(list.code).toBe(0);
    const lessons = JSON.parse(list.out).map((l: { lesson: string }) => l.lesson);
    expect(lessons).toEqual(expect.arrayContaining(['cluster', 'services', 'access']));
    expect(lessons[0]).toBe('cluster');
    const bad = await cli(['verify', '--lesson', 'acess', '--list']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown lesson "acess"');
    expect(bad.err).toContain('did you mean "access"');
  });
});
