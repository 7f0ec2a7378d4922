// Plan + secrets -> the lab folder's files, in memory. Pure apart from reading the templates, and
// deterministic: no clock, no randomness, no host facts, so the same input gives the same bytes.
import type { Plan } from '../plan/plan.js';
import type { LabSecrets } from '../plan/secrets.js';
import { getEngine, type Engine } from './engine.js';
import { makeView } from './view.js';

export interface RenderedFile {
  content: string;
  mode: number;
}

/** The CA key is optional: scripts and Vagrantfile never need it, so tests render without one. */
export type RenderSecrets = Pick<LabSecrets, 'caCert'> & Partial<Pick<LabSecrets, 'caKey'>>;

export const SCRIPTS = ['config.sh', 'install_pkg.sh', 'master_node.sh', 'work_nodes.sh'] as const;
/** provider: machines: undoes the lab on one machine (templates/teardown.sh.hbs). */
export const TEARDOWN_SCRIPT = 'teardown.sh';
export const CA_CERT_PATH = 'pki/ca.crt';
export const CA_KEY_PATH = 'pki/ca.key';

export function renderFiles(plan: Plan, secrets: RenderSecrets, engine: Engine = getEngine()): Map<string, RenderedFile> {
  const view = makeView(plan);
  const files = new Map<string, RenderedFile>();
  // Machines have no Vagrantfile; their `down` runs teardown.sh on each of them instead of destroying VMs.
  if (plan.provider === 'machines') files.set(TEARDOWN_SCRIPT, { content: engine.render(TEARDOWN_SCRIPT, view), mode: 0o755 });
  else files.set('Vagrantfile', { content: engine.render('Vagrantfile', view), mode: 0o644 });
  for (const script of SCRIPTS) files.set(script, { content: engine.render(`${script}`, view), mode: 0o755 });
  files.set(CA_CERT_PATH, { content: secrets.caCert, mode: 0o644 });
  if (secrets.caKey !== undefined) files.set(CA_KEY_PATH, { content: secrets.caKey, mode: 0o600 });
  return files;
}
