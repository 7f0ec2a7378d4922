// The contract between the lesson runner and the lessons. A lesson reads like the practice in the
// course notes: apply objects, wait, probe, mutate, assert again; cleanup always runs.
import type { ImageKey, LessonSettings } from '../config/images.js';
import type { Runner, RunResult } from '../nodes/node.js';

/** Runs one command line (sh -c) somewhere: on the control plane over SSH, or locally (src/nodes). */
export type Executor = Runner;
export type ExecResult = RunResult;

/** What the cluster offers; see ClusterFacts.off for when a missing one skips a check rather than failing it. */
export type Capability =
  | 'nodes' // at least one Ready node with a kubelet (pods actually run)
  | 'workers' // at least one Ready schedulable worker
  | 'multiNode' // two or more schedulable nodes
  | 'podNetwork' // pods can reach each other and Services (CNI + kube-proxy)
  | 'dns' // cluster DNS (CoreDNS/kube-dns) answers
  | 'loadBalancer' // a LoadBalancer implementation (MetalLB) hands out addresses
  | 'defaultStorageClass' // dynamic provisioning
  | 'ingress' // an Ingress controller with a default IngressClass (the lab's Traefik)
  | 'hostNetwork' // the host can reach node IPs (NodePort/LoadBalancer probes from outside)
  | 'internetImages'; // the course's Docker Hub images can be pulled

export interface ClusterFacts {
  capabilities: ReadonlySet<Capability>;
  /** why each missing capability is missing, for the check's reason */
  missing: ReadonlyMap<Capability, string>;
  /**
   * The missing capabilities this lab was configured without (MetalLB off, no storage provider), each with
   * the lab.yaml change that turns it on. A check that needs one of these is skipped; a check that needs
   * any other missing capability fails, since a working lab has it.
   */
  off: ReadonlyMap<Capability, string>;
  /** node name -> InternalIP */
  nodeIps: ReadonlyMap<string, string>;
  /** schedulable nodes (not cordoned, no NoSchedule taint) */
  schedulableNodes: readonly string[];
  arch: readonly string[];
}

/** One recorded command of a check: what a learner types to replay it, and what came back. */
export interface Transcript {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** what was fed on stdin (the rendered manifest of an apply), shown as a here-document */
  input?: string;
}

/** Label the runner puts on every object `apply` creates; cluster-scoped ones are deleted by it after the lesson. */
export const LESSON_LABEL = 'k8slab.io/lesson';

export interface KubectlOptions {
  allowFailure?: boolean;
  input?: string;
  /** the process limit (LIMITS.*, scaled); default LIMITS.command, or waitMs/watchMs plus a grace */
  timeoutMs?: number;
  /** kubectl's own --timeout (LIMITS.*, scaled), for delete --wait, rollout status, drain, wait */
  waitMs?: number;
  /** kubectl's --request-timeout (LIMITS.*, scaled): how long a --watch stays open */
  watchMs?: number;
  /** literal -> what the transcript shows instead (a token -> "$TOKEN") */
  redact?: Readonly<Record<string, string>>;
}

export interface CheckContext {
  /** the lesson's id: names and labels the objects built in code, as `${lesson}` does in manifests */
  readonly lesson: string;
  /** the lesson's namespace (created before setup, deleted after cleanup unless --keep) */
  readonly ns: string;
  readonly images: Readonly<Record<ImageKey, string>>;
  /** lab.yaml's `lessons:` (e.g. the mysql lesson's flavor) */
  readonly settings: LessonSettings;
  readonly facts: ClusterFacts;
  /**
   * kubectl with the given args, in the lesson's namespace (`-n ns` is added unless the args name one);
   * recorded in the transcript. Rejects on a non-zero exit unless allowFailure. Time limits go in opts
   * (named LIMITS), never as --timeout= in args.
   */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<ExecResult>;
  /** kubectl ... -o json, parsed */
  kubectlJson<T = unknown>(args: readonly string[]): Promise<T>;
  /**
   * kubectl apply -f manifests/<lesson dir>/<file> with the placeholders of manifests/README.md substituted
   * and LESSON_LABEL added to every object; `change` edits each object first (a value known only at run
   * time, such as the node a pod must run on). Returns the objects applied (kind/name), e.g.
   * "service/clusterip1". Every applied object is recorded for diagnostics and the early release.
   */
  apply(file: string, opts?: { change?: (obj: Record<string, unknown>) => void }): Promise<string[]>;
  /** Applies objects built in code, labelled and recorded like those of `apply`; `where` names them in errors. */
  applyObjects(objects: readonly object[], where: string): Promise<string[]>;
  /** kubectl exec POD -- CMD..., recorded */
  exec(pod: string, command: readonly string[], opts?: { container?: string; allowFailure?: boolean }): Promise<ExecResult>;
  /** HTTP GET from the host running k8slab (NodePort/LoadBalancer probes), recorded */
  httpGet(url: string, opts?: { timeoutMs?: number }): Promise<{ status: number; body: string }>;
  /** Retries `probe` until it returns a value other than undefined, or fails the check with `what` on timeout. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, opts?: { timeoutMs?: number; intervalMs?: number }): Promise<T>;
  /**
   * Watches that something does NOT happen: runs `problem` every few seconds for `forMs` (default
   * LIMITS.quiet, scaled) and fails the check with the first problem it returns.
   */
  holds(what: string, problem: () => Promise<string | undefined>, opts?: { forMs?: number; intervalMs?: number }): Promise<void>;
  /**
   * Ends the check as skipped (never passed). Only for what the lab was configured without: the reason
   * names the lab.yaml change that turns it on. Anything else that stops a check is ctx.fail.
   */
  skip(reason: string): never;
  /** Ends the check as failed; `hint` gives the likely cause and the next command to run. */
  fail(message: string, hint?: string): never;
  /** A note kept in the report (e.g. the pod IPs seen). */
  note(text: string): void;
  /** A named limit under the run's time scale, for a limit that goes into a request (a watch's timeoutSeconds). */
  scaled(limitMs: number): number;
}

export interface Check {
  /** short id, unique in its lesson, e.g. "clusterip-stable" */
  id: string;
  /** what the course says should happen, as a sentence */
  title: string;
  /** capabilities without which the check is skipped */
  needs?: readonly Capability[];
  /** the runner fails the check after this long (default LIMITS.check; scaled) */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<void>;
}

export interface Lesson {
  /** "services", "volumes", ... used by `verify --lesson` */
  id: string;
  title: string;
  /** the course notes the lesson follows (seeds/000..004) */
  source: string;
  /** manifests/<dir>/ holds its objects */
  dir: string;
  /** false when it touches cluster-wide state (cordon/drain, cluster PVs) and must run alone */
  parallelSafe: boolean;
  /**
   * true when no check uses what an earlier one applied: the runner then deletes a check's objects (without
   * waiting) as soon as it ends, so finished pods stop loading small nodes while the next check runs.
   * Not for lessons whose checks re-apply the same manifest: an apply onto a Terminating object is lost.
   */
  independentChecks?: boolean;
  setup?(ctx: CheckContext): Promise<void>;
  checks: readonly Check[];
  /** always runs, after the checks, even when they failed */
  cleanup?(ctx: CheckContext): Promise<void>;
}

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  lesson: string;
  check: string;
  title: string;
  status: CheckStatus;
  seconds: number;
  reason?: string;
  /** for a failure: the likely cause and the next command to run */
  hint?: string;
  notes: string[];
  transcript: Transcript[];
}
