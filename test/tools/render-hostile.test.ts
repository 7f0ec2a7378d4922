// Hostile values stay data: through the helpers directly (read back by real bash and real ruby), and
// through whole templates, with a plan whose every string carries quotes, $(), backticks, newlines and #{}.
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { makePlan, type Plan } from '../../src/plan/plan.js';
import { createEngine } from '../../src/render/engine.js';
import { renderFiles } from '../../src/render/index.js';
import { int, rb, sh, yamlString } from '../../src/render/helpers.js';
import { FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';
import { bash, settingsOf } from '../fixtures/render/bash.js';

let tmp: string;
let canary: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'k8slab-render-hostile-'));
  canary = join(tmp, 'pwned');
});
afterAll(async () => rm(tmp, { recursive: true, force: true }));

/** Each one would run `touch <canary>` if it were ever read as code, by bash or by Ruby. */
const hostile = () => [
  `a'b"c`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `x; touch ${canary}`,
  `line1\nline2\n$(touch ${canary})`,
  `#{system("touch ${canary}")}`,
  `back\\slash\\' and \\\\ two`,
  `it's ' "quoted" \\'`,
  `${'${HOME}'} $HOME ! !! * ?`,
  `tab\there\r\n`,
  `nul\u0000bell\u0007esc\u001b[31m del\u007f`,
  `\u00e9\u00e8 \u4e2d\u6587 \u{1F600}`,
  ``,
  `-rf`,
];

/** bash strings cannot hold NUL (sh refuses it, tested below); everything else must pass. */
const forBash = () => hostile().filter((v) => !v.includes('\0'));

async function expectNoCanary() {
  expect(await readdir(tmp)).not.toContain('pwned');
}

describe('helpers, read back by the real interpreters', () => {
  test('sh: bash reads every value back unchanged and runs none of it', async () => {
    for (const v of forBash()) {
      const r = await execa('bash', ['--noprofile', '--norc', '-c', `printf '%s' ${sh(v)}`], { stripFinalNewline: false });
      expect(r.stdout, JSON.stringify(v)).toBe(v);
    }
    await expectNoCanary();
  });

  test('sh: values survive as array elements and as assignments', async () => {
    const values = forBash();
    const code = `arr=(${values.map(sh).join(' ')})\none=${sh(values[1]!)}\nprintf '%s\\0' "\${arr[@]}" "$one"`;
    const r = await execa('bash', ['--noprofile', '--norc', '-c', code], { stripFinalNewline: false, reject: false });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual([...values, values[1]]);
    await expectNoCanary();
  });

  test('rb: ruby reads every value back unchanged and runs none of it', async () => {
    for (const v of hostile()) {
      const r = await execa('ruby', ['-e', `print ${rb(v)}`], { stripFinalNewline: false, reject: false });
      expect(r.exitCode, JSON.stringify(v)).toBe(0);
      expect(r.stdout, JSON.stringify(v)).toBe(v);
    }
    await expectNoCanary();
  });

  test('yaml: a YAML (and JSON) string', async () => {
    const { parse } = await import('yaml');
    for (const v of hostile()) expect(parse(`key: ${yamlString(v)}`)).toEqual({ key: v });
  });

  test('int only lets whole numbers through', () => {
    expect(int(60010)).toBe('60010');
    for (const bad of ['3; rm -rf /', 1.5, Number.NaN, Infinity, '3', undefined, null]) expect(() => int(bad)).toThrow(/whole number/);
  });

  test('sh and rb refuse what is not a string (a missing value is a bug, not an empty word)', () => {
    for (const bad of [undefined, null, {}, ['a']]) {
      expect(() => sh(bad)).toThrow(/sh: expected a string/);
      expect(() => rb(bad)).toThrow(/rb: expected a string/);
    }
    expect(sh(3)).toBe('3');
    expect(() => sh('a\0b')).toThrow(/NUL/);
  });
});

describe('strict templates', () => {
  test('a field the view lacks is an error naming the template, not an empty string', async () => {
    const dir = join(tmp, 'tpl');
    await mkdir(join(dir, 'partials'), { recursive: true });
    await writeFile(join(dir, 'probe.hbs'), 'X={{sh missing}}\n');
    const engine = createEngine({ templates: dir, provision: dir });
    expect(() => engine.render('probe', { present: 'a' })).toThrow(/templates\/probe\.hbs: .*missing/);
  });

  test('no HTML escaping', async () => {
    const dir = join(tmp, 'tpl2');
    await mkdir(join(dir, 'partials'), { recursive: true });
    await writeFile(join(dir, 'probe.hbs'), '{{v}}');
    expect(createEngine({ templates: dir, provision: dir }).render('probe', { v: `<a href="x">&'` })).toBe(`<a href="x">&'`);
  });
});

/** The default plan with hostile text in every string that reaches a template. */
function hostilePlan(): Plan {
  const [q, sub, tick, semi, nl, ruby] = hostile();
  const plan = structuredClone(planFor(VARIANTS['metallb-local-path']!));
  plan.name = `lab${sub}`;
  plan.box = `box${q}${nl}`;
  plan.boxVersion = `1${ruby}${q}`;
  plan.virtualbox.group = `/grp${ruby}`;
  plan.libvirt = { driver: `kvm${tick}` as never, cpuMode: `host${semi}` as never };
  plan.nodes.forEach((n, i) => {
    n.name = `node${i}${[q, sub, tick, semi, nl, ruby][i % 6]}`;
    n.ip = `10.0.0.${i}${[sub, tick][i % 2]}`;
  });
  plan.controlPlane = plan.nodes[0]!;
  plan.workers = plan.nodes.slice(1);
  plan.network = { private: `net${tick}`, podCidr: `pod${sub}`, serviceCidr: `svc${nl}` };
  plan.kubernetes.apiServer = `api${q}${sub}`;
  plan.kubernetes.minor = `1.34${ruby}`;
  plan.join = { token: `tok${tick}${nl}`, caCertHash: `sha256:${sub}` };
  plan.versions = { containerd: `2${semi}`, runc: `1${sub}`, calico: `3${q}` };
  plan.addons.metallb = { version: `0${tick}`, range: { first: `a${sub}`, last: `b${nl}` } };
  plan.addons.storage = { ...plan.addons.storage, localPathVersion: `lp${ruby}` };
  return plan;
}

describe('whole templates with a hostile plan', () => {
  test('Vagrantfile: real ruby loads every value back unchanged (a fake Vagrant module stands in for vagrant)', async () => {
    const plan = hostilePlan();
    const dir = join(tmp, 'vf');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Vagrantfile'), renderFiles(plan, FIXTURE_SECRETS).get('Vagrantfile')!.content);
    // The fake module only skips the configure block; the constants above it are evaluated by ruby itself.
    const probe = `module Vagrant; def self.configure(*); end; end
load ARGV[0]
require "json"
print JSON.generate({ lab: LAB, box: BOX, boxVersion: BOX_VERSION, group: VB_GROUP, driver: LIBVIRT_DRIVER, cpu: LIBVIRT_CPU_MODE, version: K8S_VERSION, n: N,
  cp: CONTROL_PLANE, workers: WORKERS })`;
    const r = await execa('ruby', ['-e', probe, join(dir, 'Vagrantfile')], { reject: false });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    const nodeOf = (n: Plan['nodes'][number]) => ({ name: n.name, vm_name: `${plan.name}-${n.name}`, ip: n.ip, ssh_port: n.sshPort, cpus: n.cpus, memory: n.memory });
    expect(got).toEqual({
      lab: plan.name,
      box: plan.box,
      boxVersion: plan.boxVersion,
      group: plan.virtualbox.group,
      driver: plan.libvirt.driver,
      cpu: plan.libvirt.cpuMode,
      version: plan.kubernetes.minor,
      n: plan.workers.length,
      cp: nodeOf(plan.controlPlane),
      workers: plan.workers.map(nodeOf),
    });
    await expectNoCanary();
  });

  test('scripts: real bash evaluates each settings block; every value comes back unchanged', async () => {
    const plan = hostilePlan();
    const files = renderFiles(plan, FIXTURE_SECRETS);
    const expected: Record<string, Record<string, string | string[]>> = {
      'config.sh': { NODE_NAMES: plan.nodes.map((n) => n.name), NODE_IPS: plan.nodes.map((n) => n.ip) },
      'install_pkg.sh': { NODE_NAMES: plan.nodes.map((n) => n.name), CONTAINERD_VERSION: plan.versions.containerd, RUNC_VERSION: plan.versions.runc },
      'master_node.sh': {
        NODE_IPS: plan.nodes.map((n) => n.ip),
        POD_CIDR: plan.network.podCidr,
        SERVICE_CIDR: plan.network.serviceCidr,
        PRIVATE_CIDR: plan.network.private,
        API_SERVER: plan.kubernetes.apiServer,
        JOIN_TOKEN: plan.join.token,
        CA_CERT_HASH: plan.join.caCertHash,
        CALICO_VERSION: plan.versions.calico,
        METALLB_VERSION: plan.addons.metallb!.version,
        METALLB_RANGE: `${plan.addons.metallb!.range.first}-${plan.addons.metallb!.range.last}`,
        LOCAL_PATH_VERSION: plan.addons.storage.localPathVersion,
      },
      'work_nodes.sh': { API_SERVER: plan.kubernetes.apiServer, JOIN_TOKEN: plan.join.token, CA_CERT_HASH: plan.join.caCertHash },
    };
    for (const [script, vars] of Object.entries(expected)) {
      const names = Object.keys(vars);
      // Print each variable (arrays element by element) NUL-separated, after the real settings block.
      const dump = names.map((n) => `printf '%s\\0' "\${${n}[@]}"; printf '\\1\\0'`).join('\n');
      const r = await execa('bash', ['--noprofile', '--norc', '-c', `${settingsOf(files.get(script)!.content)}\n${dump}`], {
        reject: false,
        stripFinalNewline: false,
      });
      expect(r.stderr, script).toBe('');
      const groups = r.stdout.split('\u0001\0').slice(0, -1).map((g) => g.split('\0').slice(0, -1));
      names.forEach((n, i) => {
        const want = vars[n]!;
        expect(groups[i], `${script}: ${n}`).toEqual(Array.isArray(want) ? want : [want]);
      });
    }
    await expectNoCanary();
  });
});

describe('free text the schema allows', () => {
  test('a VirtualBox group with spaces and parentheses reaches ruby intact', async () => {
    const config = validateConfig({ virtualbox: { group: '/My Lab (course) v1.0' } });
    const plan = makePlan(config, FIXTURE_SECRETS);
    const vf = renderFiles(plan, FIXTURE_SECRETS).get('Vagrantfile')!.content;
    const line = vf.split('\n').find((l) => l.startsWith('VB_GROUP = '))!;
    const r = await execa('ruby', ['-e', `${line}\nprint VB_GROUP`]);
    expect(r.stdout).toBe('/My Lab (course) v1.0');
  });
});
