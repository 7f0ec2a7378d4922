// Small reads and in-cluster probes the lessons share: typed views of the objects they read (-o json),
// pod IPs, ready endpoint IPs, and HTTP/DNS from the course's request-pod.
import type { CheckContext } from './types.js';
import { DEFAULT_IMAGES, type ImageKey } from '../config/images.js';
import { isReady, type List, type Pod, type Service } from './k8s.js';

export const getService = (ctx: CheckContext, name: string) => ctx.kubectlJson<Service>(['get', 'service', name]);

/** The pod's IP once it runs and is Ready. */
export function readyPodIp(ctx: CheckContext, pod: string, timeoutMs?: number): Promise<string> {
  return ctx.waitFor(
    `pod ${pod} to be Ready with an IP`,
    async () => {
      const p = await ctx.kubectlJson<Pod>(['get', 'pod', pod]);
      return isReady(p) && p.status?.podIP ? p.status.podIP : undefined;
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  );
}

/** IPs of the Ready pods a label selector picks, sorted. */
export async function readyPodIps(ctx: CheckContext, selector: string): Promise<string[]> {
  const pods = await ctx.kubectlJson<List<Pod>>(['get', 'pods', '-l', selector]);
  return pods.items
    .filter(isReady)
    .map((p) => p.status!.podIP!)
    .sort();
}

export const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

export const CLIENT_POD = 'request-pod';

/** The course's request-pod (manifests/<lesson>/client.yaml), Ready. */
export async function clientPod(ctx: CheckContext): Promise<string> {
  await ctx.apply('client.yaml');
  await readyPodIp(ctx, CLIENT_POD);
  return CLIENT_POD;
}

/**
 * The GET request-pod runs. The time limit comes from `timeout`, not wget's own -T: Debian 12's static
 * busybox (1.35) wget crashes with SIGSEGV whenever -T is given.
 */
export function wgetCommand(url: string): string[] {
  return ['timeout', '5', 'wget', '-qO-', url];
}

/** HTTP GET from inside the cluster (request-pod); the body, or undefined when it did not answer. */
export async function wgetInCluster(ctx: CheckContext, url: string): Promise<string | undefined> {
  const res = await ctx.exec(CLIENT_POD, wgetCommand(url), { allowFailure: true });
  return res.exitCode === 0 ? res.stdout : undefined;
}

/** DNS answers from request-pod with the pod's search path (`dig +short +search`). */
export async function digInCluster(ctx: CheckContext, name: string, type: 'A' | 'CNAME' = 'A'): Promise<string[]> {
  const res = await ctx.exec(CLIENT_POD, ['dig', '+short', '+search', '-t', type, name], { allowFailure: true });
  if (res.exitCode !== 0) return [];
  return res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith(';'));
}

/** "Hostname : pod1" (kubetm/app and the bench's app) -> "pod1". */
export function hostnameOf(body: string | undefined): string | undefined {
  const m = /Hostname\s*:\s*(\S+)/.exec(body ?? '');
  return m?.[1];
}

/** Course images published for amd64 only: on other nodes they crash with "exec format error". */
const AMD64_ONLY: ReadonlySet<string> = new Set([DEFAULT_IMAGES.app, DEFAULT_IMAGES.init, DEFAULT_IMAGES.tools]);

/**
 * Fails the check before it starts a pod that could not start here: a course image (not overridden in
 * lab.yaml) that the nodes cannot pull, or that exists for amd64 only while a node is not amd64. A failure,
 * not a skip: the lab was not configured without the lesson, it cannot run it.
 */
export function requireImages(ctx: CheckContext, keys: readonly ImageKey[]): void {
  for (const key of keys) {
    const image = ctx.images[key];
    if (image !== DEFAULT_IMAGES[key]) continue; // overridden: a mirror or a local image, the user's choice
    if (!ctx.facts.capabilities.has('internetImages')) {
      ctx.fail(
        `${image} comes from the Internet and the nodes cannot pull it (${ctx.facts.missing.get('internetImages') ?? 'not probed'})`,
        `set images.${key} in lab.yaml to a copy the nodes can pull (a local registry or the offline bundle)`,
      );
    }
    const other = ctx.facts.arch.filter((a) => a !== 'amd64');
    if (AMD64_ONLY.has(image) && other.length > 0) {
      ctx.fail(`${image} exists for amd64 only and the cluster has ${other.join(', ')} nodes`, `set images.${key} in lab.yaml to a multi-arch image`);
    }
  }
}

/** IPv4 addresses of `dig +short` output, or of nslookup's answer (the lines after its first "Name:"). */
export function parseAddresses(output: string, from: 'dig' | 'nslookup'): string[] {
  const ipv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
  const lines = output.split('\n').map((l) => l.trim());
  if (from === 'dig') return lines.filter((l) => ipv4.test(l)).sort();
  const start = lines.findIndex((l) => l.startsWith('Name:'));
  if (start < 0) return [];
  return lines
    .slice(start)
    .flatMap((l) => {
      // "Address: 10.0.0.5" (bind, new busybox) or "Address 1: 10.0.0.5 name" (old busybox)
      const ip = /^Address(?:\s+\d+)?:\s*(\S+)/.exec(l)?.[1];
      return ip !== undefined && ipv4.test(ip) ? [ip] : [];
    })
    .sort();
}

/** A name's IPv4 addresses as CLIENT resolves them: dig where the image has it, else nslookup. */
export async function resolveName(ctx: CheckContext, client: string, name: string, container?: string): Promise<string[]> {
  const opts = { allowFailure: true, ...(container === undefined ? {} : { container }) };
  const dig = await ctx.exec(client, ['dig', '+short', '+search', name, 'A'], opts);
  if (dig.exitCode === 0) return parseAddresses(dig.stdout, 'dig');
  // Images without dig (busybox) have nslookup.
  const ns = await ctx.exec(client, ['nslookup', name], opts);
  return parseAddresses(ns.stdout, 'nslookup');
}
