// bench/serve end to end: the served internet on a lab-network address, and one throw-away "node" that
// reaches it. The node is a network namespace joined to this host by a veth pair (10.231.77.1 here,
// 10.231.77.2 there, a /30 nothing else on this host uses), with a private mount namespace in which
// /etc/hosts, the trust store, /etc/apt, apt's and dpkg's state and /usr/local are copies
// (test/serve/sandbox.sh): the node changes only those copies.
//
// Inputs are the stack's (bench/stack, $K8SLAB_STACK_CACHE) where they exist, else stand-ins from
// bench/serve/standins.sh, per kind; test-results/serve.json says which were used.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addonNeeds } from '../../src/bundle/addons.js';
import { validateConfig } from '../../src/config/load.js';
import { makePlan } from '../../src/plan/plan.js';
import { renderFiles } from '../../src/render/index.js';
import { FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'bench/serve');
const SANDBOX = join(ROOT, 'test/serve/sandbox.sh');
const STACK = process.env.K8SLAB_STACK_CACHE ?? '/var/cache/k8slab-stack';
const HOST_IP = '10.231.77.1';
const NODE_IP = '10.231.77.2';
const NS = `k8slab-sv-${process.pid}`;
const VETH = `ksv${process.pid}`; // + h / n: at most 3 + 7 + 1 characters, under IFNAMSIZ
const KUBE_MINOR = planFor(VARIANTS.default!).kubernetes.minor; // what the default lab asks for
/** The registries serve.mjs answers for (by the image reference's first element). */
const SERVED_REGISTRIES = ['registry.k8s.io', 'docker.io', 'quay.io', 'gcr.io', 'ghcr.io'];

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, ports 80 and 443 on the lab address)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` is unavailable';
  }
  return undefined;
}
const skip = unavailable();

function sh(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

let work = '';
let cache = '';
let box = '';
let server: ChildProcess | undefined;
let serverLog = () => '';
const sources: Record<string, string> = {};
/** For test-results/serve.json: where a served thing came from, in words that outlive this run's temp dir. */
let describe_ = (path: string) => path;

/** Runs a bash script on the node (the sandbox in the namespace); returns its stdout and stderr. */
function onNode(script: string, env: Record<string, string> = {}): string {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  try {
    return execFileSync(
      'ip',
      ['netns', 'exec', NS, 'unshare', '-m', '--propagation', 'private', SANDBOX, box, HOST_IP, join(cache, 'pki/ca.crt'), 'env', ...envArgs, 'bash', '-c', `exec 2>&1\n${script}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, timeout: 300_000 },
    );
  } catch (err) {
    // The script's own output (stdout and stderr together) says why; the bare error names only the command.
    const e = err as Error & { stdout?: string; status?: number | null };
    throw new Error(`on the node: exit ${e.status ?? '?'}; the last of its output:\n${(e.stdout ?? '').slice(-4000)}`, { cause: err });
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The newest vX.Y.Z directory name (without the v) under DIR whose version starts with PREFIX. */
function newest(dir: string, prefix = ''): string | undefined {
  if (!existsSync(dir)) return undefined;
  const v = readdirSync(dir)
    .filter((d) => d.startsWith(`v${prefix}`))
    .map((d) => d.slice(1))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return v.at(-1);
}

/** The add-on manifests bench/stack took from the module zips it built (build.sh lab-addons), if it did. */
interface StackManifest { addon: string; version: string; path: string; url: string; images: string[] }
const STACK_MANIFESTS = join(STACK, 'manifests');
const stackManifests: StackManifest[] = existsSync(join(STACK_MANIFESTS, 'index.json'))
  ? JSON.parse(readFileSync(join(STACK_MANIFESTS, 'index.json'), 'utf8'))
  : [];
const stackVersion = (addon: string) => stackManifests.find((m) => m.addon === addon)?.version;
/** A lab asking for the add-on versions the stack built (the product must accept them). */
const stackAddonsLab = validateConfig({
  addons: {
    metallb: { enabled: true, ...(stackVersion('metallb') ? { version: stackVersion('metallb') } : {}) },
    storage: { provider: 'local-path', ...(stackVersion('local-path') ? { localPathVersion: stackVersion('local-path') } : {}) },
  },
}, 'stack add-ons');

const files = renderFiles(planFor(VARIANTS.default!), FIXTURE_SECRETS);
const localPathFiles = renderFiles(planFor(VARIANTS['metallb-local-path']!), FIXTURE_SECRETS);
const stackAddonFiles = renderFiles(makePlan(stackAddonsLab, FIXTURE_SECRETS), FIXTURE_SECRETS);
const installPkg = files.get('install_pkg.sh')!.content;
const manifestUrls = [...new Set(
  [files, localPathFiles, stackAddonFiles].map((f) => f.get('master_node.sh')!.content).flatMap((s) =>
    [...s.matchAll(/^[A-Z_]+_URL=(https:\/\/raw\.githubusercontent\.com\/\S+)$/gm)].map((m) => m[1]!)),
)];

describe.skipIf(skip !== undefined)(`bench/serve, one node in a network namespace${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    const used = sh('ip', ['-o', 'addr', 'show']);
    if (used.includes(` ${HOST_IP}/`)) throw new Error(`${HOST_IP} is already on an interface of this host: another run of this test, or pick another /30 in test/serve/serve.test.ts`);
    work = mkdtempSync('/var/tmp/k8slab-serve-test-');
    cache = join(work, 'cache');
    box = join(work, 'node');
    mkdirSync(box);
    const env = { K8SLAB_SERVE_CACHE: cache };

    // Per kind: the stack's output when it is all there, else stand-ins.
    const standins = join(work, 'standins');
    sh(join(BENCH, 'standins.sh'), [standins]);
    const stackBinReady = ['kubernetes', 'cri-tools', 'cni-plugins', 'containerd', 'runc'].every((c) => newest(join(STACK, 'bin', c)))
      && existsSync(join(STACK, 'bin/kubernetes', `v${newest(join(STACK, 'bin/kubernetes'), `${KUBE_MINOR}.`)}`, 'kubeadm'));
    // K8SLAB_SERVE_BIN: a binary tree of one's own (e.g. the stack's Kubernetes beside stand-ins for the rest).
    const bin = process.env.K8SLAB_SERVE_BIN ?? (stackBinReady ? join(STACK, 'bin') : join(standins, 'bin'));
    // The stack's image directory is shared with builds that may add or replace a tarball while this runs: the
    // server and the checks use one snapshot of it (hard links, so no copy of the bytes).
    let images = join(standins, 'images');
    if (existsSync(join(STACK, 'images/index.json'))) {
      images = join(work, 'images');
      mkdirSync(images);
      for (const f of readdirSync(join(STACK, 'images')).filter((n) => n.endsWith('.tar'))) linkSync(join(STACK, 'images', f), join(images, f));
    }
    const raw = existsSync(join(STACK, 'raw')) ? join(STACK, 'raw') : join(standins, 'manifests');
    Object.assign(sources, { binaries: bin, images, manifests: raw });
    describe_ = (path) => (path.startsWith(standins) ? `stand-in (bench/serve/standins.sh): ${path.slice(standins.length + 1)}`
      : path.startsWith(join(work, 'images')) ? join(STACK, 'images', path.slice(join(work, 'images').length + 1)) : path);

    sh(join(BENCH, 'ca.sh'), [], env);
    sh(join(BENCH, 'pkgs.sh'), [bin], env);
    // The upstream files the Go module proxy carries (containerd.service, metallb-native.yaml); a shared
    // module cache, so only a first run downloads them.
    sh(join(BENCH, 'manifests.sh'), [], { ...env, K8SLAB_SERVE_GOMODCACHE: '/var/cache/k8slab-serve/gomod' });
    sh(join(BENCH, 'github.sh'), [bin, raw], env);

    sh('ip', ['netns', 'add', NS]);
    sh('ip', ['link', 'add', `${VETH}h`, 'type', 'veth', 'peer', 'name', `${VETH}n`]);
    sh('ip', ['link', 'set', `${VETH}n`, 'netns', NS]);
    sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', `${VETH}h`]);
    sh('ip', ['link', 'set', `${VETH}h`, 'up']);
    sh('ip', ['netns', 'exec', NS, 'ip', 'addr', 'add', `${NODE_IP}/30`, 'dev', `${VETH}n`]);
    sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', `${VETH}n`, 'up']);
    sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);

    // The server logs to a file: this test's synchronous steps would leave a pipe unread (and a full pipe
    // would stall the server).
    const logFile = join(work, 'serve.log');
    const logFd = openSync(logFile, 'w');
    server = spawn('node', [join(BENCH, 'serve.mjs'), '--address', HOST_IP, '--images', images], { env: { ...process.env, ...env }, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    let exited: number | null | undefined;
    server.on('exit', (code) => (exited = code));
    serverLog = () => readFileSync(logFile, 'utf8');
    for (let i = 0; !/ ready$/m.test(serverLog()); i++) {
      if (exited !== undefined || i > 600) throw new Error(`serve.mjs did not get ready (exit ${exited}):\n${serverLog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(() => {
    server?.kill('SIGTERM');
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' }); // also removes the veth pair
    } catch {
      /* never made */
    }
    if (work) {
      mkdirSync(join(ROOT, 'test-results'), { recursive: true });
      const report = Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, describe_(v)]));
      writeFileSync(join(ROOT, 'test-results/serve.json'), `${JSON.stringify({ kubernetes: KUBE_MINOR, sources: report }, null, 2)}\n`);
      // Only after the namespace is gone: no bind mount of the node's copies is left.
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('the server listens on the lab address only', () => {
    const listening = sh('ss', ['-ltnpH'])
      .split('\n')
      .filter((l) => l.includes(`pid=${server!.pid},`))
      .map((l) => l.trim().split(/\s+/)[3]);
    expect(listening.sort()).toEqual([`${HOST_IP}:443`, `${HOST_IP}:80`]);
  });

  test('the node names exactly the served hosts at the lab address, once after a second setup, and trusts the CA', () => {
    const out = onNode(`${join(BENCH, 'node-setup.sh')} ${HOST_IP} ${join(cache, 'pki/ca.crt')} >/dev/null; cat /etc/hosts`);
    const ours = out.split('\n').filter((l) => l.startsWith(`${HOST_IP} `)).map((l) => l.split(' ')[1]).sort();
    expect(ours).toEqual(['deb.debian.org', 'docker.io', 'gcr.io', 'ghcr.io', 'github.com', 'pkgs.k8s.io', 'quay.io', 'raw.githubusercontent.com', 'registry-1.docker.io', 'registry.k8s.io', 'security.debian.org']);
    // curl with the system trust store only: it fails unless the CA was installed there.
    expect(onNode('curl -fsS -o /dev/null -w "%{http_code}" https://pkgs.k8s.io/core:/stable:/v' + KUBE_MINOR + '/deb/Release.key')).toBe('200');
  });

  test('install_pkg.sh as rendered: containerd and runc from "GitHub" with their sha256 checks; the pkgs.k8s.io key, list, madison, pin and hold', () => {
    // The rendered script's own text: its helpers (up to the argument parsing) and its two install
    // functions. Only what cannot run on a shared host is replaced: systemctl (no systemd here), and
    // pkg_install, which simulates the install and downloads the packages instead of unpacking them.
    const head = installPkg.slice(0, installPkg.indexOf('\nversion=${1:-}'));
    const body = installPkg.slice(installPkg.indexOf('install_base_packages() {'), installPkg.indexOf('\ninstall_base_packages\ninstall_containerd\n'));
    expect(head.length).toBeGreaterThan(0);
    expect(body).toContain('install_kubernetes_packages() {');
    const patch = newest(join(sources.binaries!, 'kubernetes'), `${KUBE_MINOR}.`)!;
    const debs = join(work, 'debs');
    mkdirSync(debs);
    const script = `${head}
minor=${KUBE_MINOR} patch=${patch} family=debian arch=amd64
systemctl() { echo "systemctl $* (sandbox: no systemd)"; }
pkg_install() {
  apt-get install -s -y "$@"
  local p pkgs=()
  for p in "$@"; do [[ $p == -* ]] || pkgs+=("$p"); done
  (cd ${debs} && apt-get download "\${pkgs[@]}")
}
${body}
install_containerd
install_runc
install_kubernetes_packages
echo "--- again"
install_containerd
install_runc
install_kubernetes_packages
echo "--- node"
apt-cache madison kubeadm
apt-mark showhold
cat /etc/apt/sources.list.d/kubernetes.list
sha256sum /usr/local/bin/containerd /usr/local/sbin/runc /usr/local/lib/systemd/system/containerd.service
`;
    const out = onNode(script);
    const [first, again, node] = [out.split('--- again')[0]!, out.split('--- again')[1]!.split('--- node')[0]!, out.split('--- node')[1]!];
    expect(first).toMatch(/containerd \S+ from its release tarball/);
    expect(first).not.toContain('does not match its published sha256');
    // A re-run keeps what is there.
    expect(again).toMatch(/containerd \S+ is installed/);
    expect(again).toMatch(/runc \S+ is installed/);
    expect(again).not.toContain('wrote /etc/apt/sources.list.d/kubernetes.list');
    // apt resolved upstream's dependencies (kubelet → kubernetes-cni) from the signed channel.
    const want = `${patch}-1.1`;
    for (const p of ['kubeadm', 'kubelet', 'kubectl']) expect(first).toContain(`Inst ${p} `);
    expect(first).toMatch(new RegExp(`Inst kubeadm .*\\(${want.replace(/\./g, '\\.')} `));
    expect(first).toContain('Inst kubernetes-cni ');
    expect(node).toContain(`kubeadm | ${want} | https://pkgs.k8s.io/core:/stable:/v${KUBE_MINOR}/deb  Packages`);
    expect(node.match(/^kube(adm|ctl|let)$/gm)?.sort()).toEqual(['kubeadm', 'kubectl', 'kubelet']);
    expect(node).toContain(`deb [signed-by=/etc/apt/keyrings/kubernetes-${KUBE_MINOR}.gpg] https://pkgs.k8s.io/core:/stable:/v${KUBE_MINOR}/deb/ /`);

    // What landed on the node is the stack's (or the stand-ins') bytes.
    const containerdDir = join(sources.binaries!, 'containerd', `v${newest(join(sources.binaries!, 'containerd'))}`);
    expect(node).toContain(`${sha256(readFileSync(join(containerdDir, 'containerd')))}  /usr/local/bin/containerd`);
    const runcVersion = planFor(VARIANTS.default!).versions.runc;
    expect(node).toContain(`${sha256(readFileSync(join(sources.binaries!, 'runc', `v${runcVersion}`, 'runc')))}  /usr/local/sbin/runc`);

    // The downloaded packages: upstream's names, versions and file layout.
    const contents = (name: string) => sh('dpkg-deb', ['-c', join(debs, `${name}_${want}_amd64.deb`)]);
    expect(contents('kubeadm')).toContain('./usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf');
    expect(contents('kubeadm')).toContain('./usr/bin/kubeadm');
    expect(contents('kubelet')).toContain('./usr/lib/systemd/system/kubelet.service');
    expect(contents('kubelet')).toContain('./etc/default/kubelet');
    expect(sh('dpkg-deb', ['-f', join(debs, `kubelet_${want}_amd64.deb`), 'Depends'])).toBe('kubernetes-cni (>= 1.2.0), mount, util-linux\n');
  }, 600_000);

  test.each(manifestUrls)('manifest %s downloads as served', (url) => {
    const path = url.replace('https://raw.githubusercontent.com/', '');
    // manifests.sh's copy (from the project's Go module) wins over the stack's or a stand-in.
    const fromModule = join(cache, 'raw', path);
    const fromStack = stackManifests.find((m) => m.url === url);
    const origin = existsSync(fromModule) ? fromModule : fromStack ? join(STACK_MANIFESTS, fromStack.path) : join(sources.manifests!, path);
    sources[url] = existsSync(fromModule) ? `the project's Go module (bench/serve/manifests.sh)` : describe_(origin);
    const expected = readFileSync(origin, 'utf8');
    expect(onNode(`curl -fsSL ${url}`)).toBe(expected);
  });

  // The offline bundle keeps each add-on file at <addon>/<version>/<file> (src/bundle/addons.ts): the stack's
  // tree must match it for the versions it built, and every image those manifests run must be served.
  test.skipIf(stackManifests.length === 0)("the stack's add-on manifests: the bundle's paths and URLs, and every image they run is served", () => {
    const needs = addonNeeds(stackAddonsLab).filter((n) => n.key === 'metallb' || n.key === 'local-path').flatMap((n) => n.files);
    expect(stackManifests.map((m) => ({ path: m.path, url: m.url })).sort((a, b) => a.path.localeCompare(b.path)))
      .toEqual([...needs].sort((a, b) => a.path.localeCompare(b.path)));
    const served = readdirSync(sources.images!)
      .filter((f) => f.endsWith('.tar'))
      .map((f) => JSON.parse(sh('tar', ['-xOf', join(sources.images!, f), 'index.json'])).manifests[0].annotations['io.containerd.image.name'] as string);
    // containerd's reading of a short name: docker.io, library/ for one path element, :latest without a tag.
    const full = (ref: string) => {
      const named = /^[^/]+[.:][^/]*\//.test(ref) ? ref : `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`;
      return /:[^/]+$/.test(named) ? named : `${named}:latest`;
    };
    for (const m of stackManifests) {
      const text = readFileSync(join(STACK_MANIFESTS, m.path), 'utf8');
      const refs = [...text.matchAll(/^\s*image:\s*(\S+)/gm)].map((x) => x[1]!);
      expect(refs.length, m.path).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(served, `${m.path}: ${ref}`).toContain(full(ref));
        const [, registry, repo, tag] = /^([^/]+)\/(.+):([^:]+)$/.exec(full(ref))!;
        const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
        expect(onNode(`curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' https://${host}/v2/${repo}/manifests/${tag}`), ref).toBe('200');
      }
    }
  });

  test('every image: manifest by tag and by digest, its config and layers, each matching its digest', () => {
    const index = join(work, 'image-index');
    mkdirSync(index, { recursive: true });
    // Images under other names (the lessons' k8slab.local stand-ins) are imported on nodes, not pulled: serve.mjs
    // skips them (and says so in its log).
    const tars = readdirSync(sources.images!).filter((f) => f.endsWith('.tar')).filter((tar) => {
      const ref: string = JSON.parse(sh('tar', ['-xOf', join(sources.images!, tar), 'index.json'])).manifests[0].annotations['io.containerd.image.name'];
      if (SERVED_REGISTRIES.includes(ref.split('/')[0]!)) return true;
      expect(serverLog(), ref).toContain(`'${ref}' names no registry served here`);
      return false;
    });
    expect(tars.length).toBeGreaterThan(0);
    const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
    for (const tar of tars) {
      const entry = JSON.parse(sh('tar', ['-xOf', join(sources.images!, tar), 'index.json'])).manifests[0];
      const ref: string = entry.annotations['io.containerd.image.name'];
      const [, registry, repo, tag] = /^([^/]+)\/(.+):([^:]+)$/.exec(ref)!;
      const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
      const base = `https://${host}/v2/${repo}`;
      const headers = onNode(`curl -fsS -o /dev/null -D - -H '${accept}' ${base}/manifests/${tag}`);
      expect(headers, ref).toMatch(new RegExp(`docker-content-digest: ${entry.digest}`, 'i'));
      const manifest = onNode(`curl -fsS -H '${accept}' ${base}/manifests/${entry.digest}`);
      expect(`sha256:${sha256(manifest)}`, ref).toBe(entry.digest);
      for (const blob of [JSON.parse(manifest).config, ...JSON.parse(manifest).layers]) {
        expect(onNode(`curl -fsS ${base}/blobs/${blob.digest} | sha256sum`).split(' ')[0], `${ref} ${blob.digest}`).toBe(blob.digest.slice(7));
      }
    }
  });

  // containerd's own registry client (remotes/docker: host mapping, token-less auth, Accept, digests, the
  // system trust store) against the served registries. The stack's containerd when it is built, else the
  // testbed's (Debian's 1.6 package); skipped when neither is on this host.
  const containerdDirs = [
    join(STACK, 'bin/containerd', `v${newest(join(STACK, 'bin/containerd')) ?? 'none'}`),
    '/var/cache/k8slab-testbed/tools/containerd/usr/bin',
  ].filter((d) => existsSync(join(d, 'containerd')) && existsSync(join(d, 'ctr')));
  test.skipIf(containerdDirs.length === 0)('containerd pulls registry.k8s.io/kube-apiserver, docker.io/calico/node, quay.io/metallb/controller and docker.io/library/busybox by their upstream names', () => {
    const dir = containerdDirs[0]!;
    const served = readdirSync(sources.images!)
      .filter((f) => f.endsWith('.tar'))
      .map((f) => JSON.parse(sh('tar', ['-xOf', join(sources.images!, f), 'index.json'])).manifests[0].annotations['io.containerd.image.name'] as string);
    // docker.io/library/busybox: the short name "busybox" (local-path's helper pod) through Docker Hub's naming.
    const refs = served.filter((r) => /^registry\.k8s\.io\/kube-apiserver:|^docker\.io\/calico\/node:|^quay\.io\/metallb\/controller:|^docker\.io\/library\/busybox:/.test(r));
    expect(refs.length).toBeGreaterThan(0);
    sources.containerdClient = dir;
    // containerd 2's pulls go through its transfer service, which unpacks only for the snapshotters its
    // unpack_config names (by default overlayfs): name native, which works in the sandbox. 1.6 needs nothing.
    const config = dir.startsWith(join(STACK, 'bin/containerd'))
      ? `version = 3\n[[plugins.'io.containerd.transfer.v1.local'.unpack_config]]\n  platform = "linux/amd64"\n  snapshotter = "native"`
      : '';
    const d = join(box, 'containerd');
    const out = onNode(`set -e
mkdir -p ${d}
cat >${d}/config.toml <<'TOML'
${config}
TOML
${dir}/containerd --config ${d}/config.toml --root ${d}/root --state ${d}/state --address ${d}/sock >${d}/log 2>&1 &
pid=$!
trap 'kill $pid; wait $pid || true' EXIT
# containerd is up when ctr gets an answer from it (a condition, polled; not a fixed sleep).
for i in $(seq 300); do ${dir}/ctr -a ${d}/sock version >/dev/null 2>&1 && break; sleep 0.1; done
for ref in ${refs.join(' ')}; do ${dir}/ctr -a ${d}/sock -n k8s.io images pull --snapshotter native "$ref" >/dev/null; done
${dir}/ctr -a ${d}/sock -n k8s.io images ls
`);
    for (const ref of refs) expect(out).toContain(ref);
  }, 600_000);

  test('the registries are read only and know only the images served', () => {
    expect(onNode('curl -s -o /dev/null -w "%{http_code}" -X PUT https://registry.k8s.io/v2/pause/manifests/evil')).toBe('405');
    expect(onNode('curl -s https://registry.k8s.io/v2/pause/manifests/no-such-tag')).toContain('MANIFEST_UNKNOWN');
    expect(onNode('curl -s -o /dev/null -w "%{http_code}" https://quay.io/v2/no/such/manifests/latest')).toBe('404');
    // A blob of one repository is not served under another's name.
    const apiserver = JSON.parse(onNode(`curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' https://registry.k8s.io/v2/kube-apiserver/manifests/v${newest(join(sources.binaries!, 'kubernetes'), `${KUBE_MINOR}.`)}`));
    expect(onNode(`curl -s https://registry.k8s.io/v2/kube-apiserver/blobs/${apiserver.layers[0].digest} | sha256sum`)).toContain(apiserver.layers[0].digest.slice(7));
    expect(onNode(`curl -s https://registry.k8s.io/v2/pause/blobs/${apiserver.layers[0].digest}`)).toContain('BLOB_UNKNOWN');
  });

  test("Debian's mirror through this host: apt indexes came through it; a package is kept after its first download", () => {
    const out = onNode(`apt-get update -q && cd ${work} && apt-get download -q socat && apt-get download -q socat && echo downloaded`);
    expect(serverLog()).toMatch(/GET http:\/\/deb\.debian\.org\/debian\/dists\/bookworm\/InRelease (200|304)/);
    expect(out).toContain('downloaded');
    const kept = sh('find', [join(cache, 'debian'), '-name', 'socat_*.deb']);
    expect(kept).toMatch(/\/debian\/pool\/main\/s\/socat\/socat_.*\.deb/);
    // Only Debian's paths are forwarded.
    expect(onNode('curl -s -o /dev/null -w "%{http_code}" http://deb.debian.org/not-debian/')).toBe('404');
  }, 300_000);
});

describe('bench/serve: bad input is refused with the reason, and changes nothing', () => {
  function refused(cmd: string, args: readonly string[]): { status: number | null; stderr: string } {
    try {
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8SLAB_SERVE_CACHE: '/nonexistent/k8slab-serve' } });
    } catch (err) {
      const e = err as { status: number | null; stderr: string };
      return { status: e.status, stderr: e.stderr };
    }
    throw new Error(`${cmd} ${args.join(' ')} succeeded`);
  }

  test.each([['0.0.0.0'], ['10.1.2.300'], ['lab']])('serve.mjs --address %s', (address) => {
    const r = refused('node', [join(BENCH, 'serve.mjs'), '--address', address]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--address '${address}'`);
    expect(r.stderr).toMatch(/lab network/);
  });

  test('serve.mjs without its certificate says which file and how to make it', () => {
    const r = refused('node', [join(BENCH, 'serve.mjs'), '--address', '10.231.77.1']);
    expect(r.stderr).toContain('/nonexistent/k8slab-serve/pki/ca.crt is missing: run bench/serve/ca.sh first');
  });

  test('node-setup.sh with a bad address leaves /etc/hosts as it was', () => {
    const before = readFileSync('/etc/hosts', 'utf8');
    const r = refused(join(BENCH, 'node-setup.sh'), ['10.0.0.256', '/dev/null']);
    expect(r.stderr).toContain("ADDRESS '10.0.0.256' is not an IPv4 address");
    expect(readFileSync('/etc/hosts', 'utf8')).toBe(before);
  });

  test('pkgs.sh without binaries names the directory and the build', () => {
    const r = refused(join(BENCH, 'pkgs.sh'), ['/nonexistent/bin']);
    expect(r.stderr).toContain("no Kubernetes binaries in '/nonexistent/bin/kubernetes' (build them: npm run stack:build, or pass BIN)");
  });
});

test('bench/serve scripts and the sandbox pass shellcheck', () => {
  const scripts = readdirSync(BENCH).filter((f) => f.endsWith('.sh')).map((f) => join(BENCH, f));
  expect(scripts.length).toBeGreaterThan(5);
  // shellcheck exits non-zero on any finding; the output names it.
  expect(() => execFileSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', ...scripts, SANDBOX], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).not.toThrow();
});
