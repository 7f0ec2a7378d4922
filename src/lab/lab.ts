// The one entry every command builds on: lab.yaml's config, the plan, the lab state, the provider that
// holds the machines, and the nodes (connected on first use, closed by close()). `kubectl()` is the one
// way to run kubectl on the lab.
import { join } from 'node:path';
import { kubectlOn } from '../cluster/kubectl.js';
import type { LabConfig } from '../config/schema.js';
import { connectNode, type Connect } from '../nodes/ssh-node.js';
import type { Node, Runner } from '../nodes/node.js';
import { makePlan, type Plan } from '../plan/plan.js';
import { generateSecrets } from '../plan/secrets.js';
import { providerFor } from '../provider/index.js';
import type { Provider } from '../provider/types.js';
import { loadOrCreateState, writeState, type LabState } from '../state/lab-state.js';
import { UserError } from '../util/errors.js';

/** Where a lab's definition and its generated folder are. */
export interface LabPaths {
  configFile: string;
  labDir: string;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** keep retrying a node that does not answer yet for this long */
  timeoutMs?: number;
  /** before each new connection (progress lines) */
  onConnect?: (node: string, where: string) => void;
}

export interface Lab {
  paths: LabPaths;
  config: LabConfig;
  plan: Plan;
  state: LabState;
  /** false when this command made the state (the lab was never rendered or brought up) */
  existed: boolean;
  /** per-node logs */
  logDir: string;
  provider: Provider;
  save(): Promise<void>;
  /** Connects to the named nodes (reusing open ones), concurrently, through the provider's SSH targets. */
  nodes(names: readonly string[], o?: ConnectOptions): Promise<Map<string, Node>>;
  controlPlane(o?: ConnectOptions): Promise<Node>;
  /** kubectl on the lab: the control plane, as root, with kubeadm's admin kubeconfig */
  kubectl(o?: ConnectOptions): Promise<Runner>;
  /** Closes every node connection. */
  close(): Promise<void>;
}

export interface OpenLabOptions {
  /** how to reach a node (tests give fakes) */
  connect?: Connect;
  /** the provider (tests give fakes); default: the one lab.yaml names */
  provider?: (lab: Pick<Lab, 'plan' | 'state' | 'logDir' | 'save' | 'paths'>) => Provider;
  /**
   * An unreadable state file: by default an error. `down` passes a handler and goes on with a fresh
   * state that is never written (it removes the state anyway).
   */
  onStateError?: (e: Error) => void;
}

export async function openLab(paths: LabPaths, config: LabConfig, o: OpenLabOptions = {}): Promise<Lab> {
  let state: LabState;
  let existed: boolean;
  try {
    const r = await loadOrCreateState(paths.labDir);
    state = r.state;
    existed = !r.created;
  } catch (e) {
    if (!o.onStateError) throw e;
    o.onStateError(e instanceof Error ? e : new Error(String(e)));
    state = { version: 1, createdAt: new Date().toISOString(), secrets: await generateSecrets(), phases: {}, facts: {} };
    existed = false;
  }
  const logDir = join(paths.labDir, 'logs');
  const plan = makePlan(config, state.secrets);
  const save = () => writeState(paths.labDir, state);
  const provider = o.provider
    ? o.provider({ plan, state, logDir, save, paths })
    : providerFor({ plan, labDir: paths.labDir, logDir, state, save });
  const connect = o.connect ?? connectNode;
  const open = new Map<string, Promise<Node>>();

  const nodes = async (names: readonly string[], co: ConnectOptions = {}): Promise<Map<string, Node>> => {
    const missing = names.filter((n) => !open.has(n));
    if (missing.length > 0) {
      const targets = await provider.sshTargets(missing, co.signal ? { signal: co.signal } : {});
      const absent = missing.filter((n) => !targets.some((t) => t.name === n));
      if (absent.length > 0) {
        throw new UserError(
          `no SSH settings for ${absent.join(', ')}: is the ${provider.machineWord} running?`,
          'failed',
          'see `k8slab status`; `k8slab up` starts the lab',
        );
      }
      for (const t of targets) {
        co.onConnect?.(t.name, `${t.host}:${t.port}`);
        const p = connect(t, { ...(co.signal ? { signal: co.signal } : {}), timeoutMs: co.timeoutMs ?? 300_000 });
        p.catch(() => open.delete(t.name)); // a failed connection is tried again next time
        open.set(t.name, p);
      }
    }
    const pairs = await Promise.all(names.map(async (n) => [n, await open.get(n)!] as const));
    return new Map(pairs);
  };
  const controlPlane = async (co: ConnectOptions = {}) => (await nodes([plan.controlPlane.name], co)).get(plan.controlPlane.name)!;

  return {
    paths,
    config,
    plan,
    state,
    existed,
    logDir,
    provider,
    save,
    nodes,
    controlPlane,
    kubectl: async (co) => kubectlOn(await controlPlane(co)),
    async close() {
      const all = [...open.values()];
      open.clear();
      await Promise.allSettled(all.map(async (p) => (await p).close()));
    },
  };
}

/** Whether `up` got as far as a cluster (so reset waits for Kubernetes). */
export function hasCluster(lab: Pick<Lab, 'state'>): boolean {
  return lab.state.phases.provision?.status === 'done';
}

/** Whether provisioning ever started: kubeadm may have made a control plane even if a worker failed. */
export function mayHaveCluster(lab: Pick<Lab, 'state'>): boolean {
  return lab.state.phases.provision !== undefined;
}
