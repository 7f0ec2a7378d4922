// The Kubernetes objects the lessons, the facts and the runner read (`kubectl get -o json`), typed once:
// only the fields k8slab looks at. Pure predicates over them live here too, so "Ready" means one thing.

export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: OwnerRef[];
}
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { reason?: string; exitCode?: number; message?: string };
}
export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}
export interface Pod {
  metadata: Meta;
  spec: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers: { name: string; image: string }[];
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
export interface Node {
  metadata: Meta;
  spec?: { unschedulable?: boolean; podCIDR?: string; taints?: { key: string; effect: string; value?: string }[] };
  status?: {
    conditions?: Condition[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { architecture?: string; kubeletVersion?: string };
  };
}
export interface Service {
  metadata: Meta & { uid: string };
  spec: {
    type?: string;
    clusterIP?: string;
    externalName?: string;
    selector?: Record<string, string>;
    sessionAffinity?: string;
    ports: { port: number; nodePort?: number; targetPort?: number | string }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}
export interface Endpoints {
  metadata?: Meta;
  subsets?: {
    addresses?: { ip: string; targetRef?: { name?: string } }[];
    notReadyAddresses?: { ip: string; targetRef?: { name?: string } }[];
    ports?: { port: number }[];
  }[];
}
export interface PersistentVolume {
  metadata: Meta;
  spec: {
    capacity?: { storage?: string };
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string };
    storageClassName?: string;
    hostPath?: { path: string; type?: string };
  };
  status?: { phase?: string };
}
export interface PersistentVolumeClaim {
  metadata: Meta;
  spec: { volumeName?: string; storageClassName?: string; accessModes?: string[] };
  status?: { phase?: string; accessModes?: string[]; capacity?: { storage?: string } };
}
export interface StorageClass {
  metadata: Meta;
  provisioner: string;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
}
export interface K8sEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}
export interface List<T> {
  items: T[];
}

export function conditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/**
 * A pod that serves: phase Running and condition Ready. A Ready condition alone is not enough: a pod whose
 * containers all ended (Succeeded/Failed) keeps its last conditions for a while, and serves nothing.
 */
export function isReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && conditionTrue(pod.status.conditions, 'Ready');
}

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
}

export function nodeReady(node: Node): boolean {
  return conditionTrue(node.status?.conditions, 'Ready');
}

export function internalIp(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

export function isControlPlaneNode(node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
}

/** The ready addresses of an Endpoints object, sorted. */
export function endpointIps(ep: Endpoints): string[] {
  return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

/**
 * Why a pod is not Ready, in the words `kubectl get pods` would use: the phase, then each container's
 * waiting reason (CrashLoopBackOff, ImagePullBackOff ...) or the reason it last ended.
 */
export function whyNotReady(pod: Pod): string {
  const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].flatMap((c) => {
    const w = c.state?.waiting;
    if (w?.reason) return [`${c.name} ${w.reason}${w.message ? ` (${w.message})` : ''}`];
    const t = c.state?.terminated ?? (c.restartCount > 0 ? c.lastState?.terminated : undefined);
    if (t && !c.ready) return [`${c.name} terminated ${t.reason ?? ''} exit ${t.exitCode ?? '?'}`.replace(/\s+/g, ' ')];
    return [];
  });
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  const phase = pod.status?.phase ?? 'no phase';
  return [
    pod.spec.nodeName ? phase : `${phase}, not scheduled${unscheduled?.message ? ` (${unscheduled.message})` : ''}`,
    ...containers,
  ].join(', ');
}
