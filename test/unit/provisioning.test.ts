// The provisioning sequence is defined once, in the plan (src/plan/provisioning.ts). `up` runs it
// (vagrant-provision.test.ts checks what ran against it) and the Vagrantfile renders it (partial
// vagrant-provision); here the rendered provisioners, read back line by line, must say exactly the
// plan's steps, so a plain `vagrant up` builds the same cluster.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plan/plan.js';
import type { ProvisionStep } from '../../src/plan/provisioning.js';
import { renderFiles } from '../../src/render/index.js';
import { FIXTURE_SECRETS, VARIANTS, planFor } from '../fixtures/render/variants.js';

/** A Ruby string literal as the render helpers write them ('...' or "..."), or a constant of the file. */
function rubyValue(expr: string, constants: Record<string, string>): string {
  const e = expr.trim();
  if (e.startsWith("'")) return e.slice(1, -1).replace(/\\(['\\])/g, '$1');
  if (e.startsWith('"')) return JSON.parse(e) as string;
  if (e in constants) return constants[e]!;
  throw new Error(`cannot read the Ruby value ${e}`);
}

function rubyArgs(expr: string | undefined, constants: Record<string, string>): string[] {
  if (expr === undefined) return [];
  const e = expr.trim();
  const items = e.startsWith('[') ? e.slice(1, -1).split(',') : [e];
  return items.map((x) => rubyValue(x, constants));
}

/** The provisioners of one `config.vm.define` block, in order, as plan steps. */
function provisioners(block: string, constants: Record<string, string>): ProvisionStep[] {
  const steps: ProvisionStep[] = [];
  for (const raw of block.split('\n')) {
    const line = raw.replace(/ # .*$/, '').trim();
    let m = /^cfg\.vm\.provision "shell", path: ('[^']+'|"[^"]+")(?:, args: (.+))?$/.exec(line);
    if (m) {
      steps.push({ kind: 'script', script: rubyValue(m[1]!, constants), args: rubyArgs(m[2], constants) });
      continue;
    }
    m = /^cfg\.vm\.provision "shell", inline: (.+)$/.exec(line);
    if (m) {
      steps.push({ kind: 'upload', dir: '', prepare: rubyValue(m[1]!, constants), files: [] });
      continue;
    }
    m = /^cfg\.vm\.provision "file", source: File\.join\(__dir__, ('[^']+'|"[^"]+")\), destination: (.+)$/.exec(line);
    if (m) {
      const up = steps[steps.length - 1];
      if (up?.kind !== 'upload') throw new Error(`a file provisioner without the folder prepared first: ${line}`);
      up.files.push({ source: rubyValue(m[1]!, constants), destination: rubyValue(m[2]!, constants), mode: 0 });
    }
  }
  return steps;
}

/** What the Vagrantfile can say of a step: no folder name, no modes (the upload keeps the files' own). */
function comparable(steps: readonly ProvisionStep[]): unknown[] {
  return steps.map((s) =>
    s.kind === 'script'
      ? { script: s.script, args: s.args }
      : { prepare: s.prepare, files: s.files.map((f) => ({ source: f.source, destination: f.destination })) },
  );
}

function vagrantfileSteps(plan: Plan): { controlPlane: unknown[]; worker: unknown[] } {
  const vf = renderFiles(plan, FIXTURE_SECRETS).get('Vagrantfile')!.content;
  const constants = {
    N: /^N = (\d+)/m.exec(vf)![1]!,
    K8S_VERSION: rubyValue(/^K8S_VERSION = ('[^']*'|"[^"]*")/m.exec(vf)![1]!, {}),
  };
  const cp = vf.slice(vf.indexOf('config.vm.define CONTROL_PLANE'), vf.indexOf('WORKERS.first(N)'));
  const worker = vf.slice(vf.indexOf('WORKERS.first(N)'));
  return { controlPlane: comparable(provisioners(cp, constants)), worker: comparable(provisioners(worker, constants)) };
}

describe('the provisioning sequence', () => {
  for (const [variant, input] of Object.entries(VARIANTS)) {
    it(`${variant}: the Vagrantfile's provisioners are the plan's steps`, () => {
      const plan = planFor(input);
      expect(vagrantfileSteps(plan)).toEqual({
        controlPlane: comparable(plan.provisioning.controlPlane),
        worker: comparable(plan.provisioning.worker),
      });
    });
  }

  it('a change to the plan shows (the comparison can fail)', () => {
    const plan = planFor(VARIANTS['default']!);
    const rendered = vagrantfileSteps(plan);
    const worker = plan.provisioning.worker.map((s) => (s.kind === 'script' && s.script === 'install_pkg.sh' ? { ...s, args: [...s.args, 'extra'] } : s));
    expect(rendered.worker).not.toEqual(comparable(worker));
    expect(rendered.controlPlane).not.toEqual(comparable(plan.provisioning.controlPlane.slice(1)));
  });

  it('runs the course order: config.sh, install_pkg.sh, then kubeadm init (with the CA) or a join that waits for the API', () => {
    const plan = planFor(VARIANTS['default']!);
    const names = (steps: readonly ProvisionStep[]) => steps.map((s) => (s.kind === 'script' ? s.script : 'upload CA'));
    expect(names(plan.provisioning.controlPlane)).toEqual(['config.sh', 'install_pkg.sh', 'upload CA', 'master_node.sh']);
    expect(names(plan.provisioning.worker)).toEqual(['config.sh', 'install_pkg.sh', 'work_nodes.sh']);
    expect(plan.provisioning.worker.at(-1)).toMatchObject({ waitFor: 'api-server' });
    const upload = plan.provisioning.controlPlane.find((s) => s.kind === 'upload');
    expect(upload?.kind === 'upload' && upload.files.map((f) => [f.source, f.mode.toString(8)])).toEqual([
      ['pki/ca.crt', '644'],
      ['pki/ca.key', '600'],
    ]);
  });
});
