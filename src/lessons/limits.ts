// Every time limit of verify, by name, in milliseconds at time scale 1. The context multiplies each by the
// run's time scale (RunOptions.timeScale) where it is used, so a lesson names what it waits for and never
// does arithmetic with seconds: `ctx.kubectl([...], { waitMs: LIMITS.delete })` becomes kubectl's own
// `--timeout=180s` and a process limit a little longer than that.
export const LIMITS = {
  /** one kubectl call that does not wait for anything */
  command: 60_000,
  /** kubectl describe/logs for diagnostics: they must not hold up the report */
  diagnostics: 20_000,
  /** what kubectl's own --timeout is given on top of, for the process to end after kubectl does */
  kubectlGrace: 20_000,
  /** a controller reacting to an API change (a ClusterIP, an EndpointSlice, a PV phase, RBAC caches) */
  api: 30_000,
  /** the default of ctx.waitFor */
  wait: 120_000,
  /** a controller replacing pods, or a Job's pod running to its end */
  controller: 60_000,
  /** an answer over the pod network or from DNS, once the pods are Ready */
  traffic: 60_000,
  /** one pod pulling its image, starting and becoming Ready */
  podReady: 180_000,
  /** several pods started one after another (StatefulSet ordering, MySQL init containers) */
  podsInOrder: 300_000,
  /** an Ingress controller picking up a new Ingress from its watch and routing by it */
  ingressRoute: 90_000,
  /** a pod or claim deleted and its finalizers done (kubectl delete --wait) */
  delete: 180_000,
  /** a namespace deleted with everything in it */
  namespaceDelete: 180_000,
  /** cluster-scoped objects of a lesson deleted by label */
  clusterScopedDelete: 120_000,
  /** a Deployment rollout to finish (kubectl rollout status) */
  rollout: 180_000,
  /** a drain evicting its pods */
  drain: 180_000,
  /** a dynamically provisioned claim to be Bound */
  provision: 180_000,
  /** a liveness probe failing often enough for the kubelet to restart the container */
  livenessRestart: 90_000,
  /** a StatefulSet removing a pod on scale-down (shorter than the watch that observes it) */
  scaleDown: 45_000,
  /** rounds of requests until one passes during which a Service's endpoints hold still */
  stableRound: 300_000,
  /** a watch kept open while the change it observes happens */
  watch: 50_000,
  /**
   * a watch that replays past changes from a resourceVersion: the API server sends them at once, then
   * holds the watch open this long (its timeoutSeconds) before it ends
   */
  replay: 5_000,
  /** a CronJob scheduled every minute creating its first Job */
  cronSchedule: 130_000,
  /** the CronJob check: its first schedule, then its Job's pod running to the end */
  cronCheck: 330_000,
  /** replication to catch up on a MySQL replica */
  replication: 90_000,
  /** MySQL pods with init containers and a clone from a peer */
  mysqlPods: 480_000,
  /** a check, unless it says otherwise */
  check: 300_000,
  /** checks that wait for several pods one after another */
  longCheck: 480_000,
  /** the MySQL checks */
  mysqlCheck: 600_000,
  /** the image pull probe of the facts */
  pullProbe: 120_000,
  /** how long to watch that something does NOT happen (a pod is not restarted, an address not assigned) */
  quiet: 10_000,
  /**
   * how long to watch that a claim stays Pending: longer than the PV controller's periodic sync of pending
   * claims (kube-controller-manager --pvclaimbinder-sync-period, 15s by default), the only time a claim
   * meets a volume created after it
   */
  claimQuiet: 20_000,
} as const;

export type LimitName = keyof typeof LIMITS;
