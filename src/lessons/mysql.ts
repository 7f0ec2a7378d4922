// The replicated MySQL of course notes 004 (the Kubernetes tutorial "Run a Replicated Stateful
// Application"): mysql-0 takes writes, replicas follow it and refuse writes, a new replica clones the
// data, and mysql-read spreads reads.
import { LIMITS } from './limits.js';
import type { Capability, CheckContext, ExecResult, Lesson } from './types.js';
import { DEFAULT_IMAGES } from '../config/images.js';
import { getOrUndefined, token, waitPodsReady } from './lesson-steps.js';

const LESSON = 'mysql';
const CLIENT = 'mysql-client';
const NEEDS: readonly Capability[] = ['nodes', 'dns', 'defaultStorageClass'];
/** Image pulls, init containers and the xtrabackup clone take minutes on a fresh lab. */
const POD_TIMEOUT_MS = LIMITS.mysqlPods;
const CHECK_TIMEOUT_MS = LIMITS.mysqlCheck;

/** Why the course's images cannot run here, or undefined when they (or overrides) can. */
export function imageProblem(
  images: Readonly<Record<'mysql' | 'xtrabackup', string>>,
  capabilities: ReadonlySet<Capability>,
  arch: readonly string[],
): string | undefined {
  const defaults = (['mysql', 'xtrabackup'] as const).filter((k) => images[k] === DEFAULT_IMAGES[k]);
  if (defaults.length === 0) return undefined;
  const names = defaults.map((k) => DEFAULT_IMAGES[k]).join(' and ');
  if (!capabilities.has('internetImages')) {
    return `${names} come from the Internet, which the nodes cannot pull from; set images.${defaults.join(' and images.')} in lab.yaml to a reachable copy`;
  }
  const other = arch.filter((a) => a !== 'amd64');
  if (other.length > 0) return `${names} exist for amd64 only and the cluster has ${other.join(', ')} nodes; override them in lab.yaml`;
  return undefined;
}

/** A failure, not a skip: the lab was not configured without the lesson, it cannot run it. */
function requireImages(ctx: CheckContext): void {
  const problem = imageProblem(ctx.images, ctx.facts.capabilities, ctx.facts.arch);
  if (problem) ctx.fail(problem, 'set images.mysql and images.xtrabackup in lab.yaml to images the nodes can pull and run');
}

/** Runs one statement as root against HOST from the client pod, as `mysql -h HOST -u root -e ...`. */
function sql(ctx: CheckContext, host: string, statement: string, allowFailure = false): Promise<ExecResult> {
  return ctx.exec(CLIENT, ['mysql', '-h', host, '-u', 'root', '--connect-timeout=5', '-N', '-B', '-e', statement], { allowFailure });
}

/** The tutorial's objects (created once: re-applying would undo a scale to 3) and the client pod. */
async function ensureMysql(ctx: CheckContext, ready: readonly string[]): Promise<void> {
  requireImages(ctx);
  if ((await getOrUndefined(ctx, ['statefulset', 'mysql'])) === undefined) {
    await ctx.apply('mysql-configmap.yaml');
    await ctx.apply('mysql-services.yaml');
    await ctx.apply('mysql-statefulset.yaml');
  }
  await ctx.apply('mysql-client.yaml');
  await waitPodsReady(ctx, [CLIENT, ...ready], POD_TIMEOUT_MS);
}

/** Writes a new row on the primary and returns it. */
async function writeOnPrimary(ctx: CheckContext): Promise<string> {
  const mark = token('hello-mysql');
  await sql(
    ctx,
    'mysql-0.mysql',
    `CREATE DATABASE IF NOT EXISTS k8slab; CREATE TABLE IF NOT EXISTS k8slab.message (message VARCHAR(250)); INSERT INTO k8slab.message VALUES ('${mark}');`,
  );
  return mark;
}

/** Waits until HOST answers a SELECT that finds `mark` (replication is asynchronous). */
async function waitRow(ctx: CheckContext, host: string, mark: string): Promise<void> {
  await ctx.waitFor(
    `${host} to serve the row '${mark}'`,
    async () => {
      const res = await sql(ctx, host, `SELECT message FROM k8slab.message WHERE message = '${mark}';`, true);
      return res.exitCode === 0 && res.stdout.trim() === mark ? true : undefined;
    },
    { timeoutMs: LIMITS.replication, intervalMs: 3000 },
  );
}

export const mysql: Lesson = {
  id: LESSON,
  title: 'Replicated MySQL on a StatefulSet (one primary, read-only replicas)',
  source: 'seeds/004 (One Master Multi Slave, after kubernetes.io "Run a Replicated Stateful Application")',
  dir: LESSON,
  parallelSafe: true,
  checks: [
    {
      id: 'primary-accepts-write',
      title: 'mysql-0 (the primary) accepts a write',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0']);
        const mark = await writeOnPrimary(ctx);
        const res = await sql(ctx, 'mysql-0.mysql', `SELECT message FROM k8slab.message WHERE message = '${mark}';`);
        if (res.stdout.trim() !== mark) ctx.fail(`mysql-0 accepted the INSERT but SELECT returned ${JSON.stringify(res.stdout.trim())}`);
        ctx.note(`wrote '${mark}' into k8slab.message on mysql-0.mysql`);
      },
    },
    {
      id: 'replica-serves-data',
      title: 'mysql-1 (a replica) serves the data written to mysql-0',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        const mark = await writeOnPrimary(ctx);
        await waitRow(ctx, 'mysql-1.mysql', mark);
        ctx.note(`mysql-1.mysql returned '${mark}', written on mysql-0`);
      },
    },
    {
      id: 'replica-read-only',
      title: 'mysql-1 refuses a write: the server runs with --super-read-only',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        // The table must exist on the replica, or the error would be "unknown database" instead.
        await waitRow(ctx, 'mysql-1.mysql', await writeOnPrimary(ctx));
        const res = await sql(ctx, 'mysql-1.mysql', "INSERT INTO k8slab.message VALUES ('written-on-a-replica');", true);
        if (res.exitCode === 0) ctx.fail('mysql-1 accepted an INSERT: a replica must be read-only');
        if (!/super-read-only/i.test(res.stderr)) ctx.fail(`mysql-1 refused the INSERT, but not for super-read-only: ${res.stderr.trim()}`);
        ctx.note(res.stderr.trim());
      },
    },
    {
      id: 'scale-to-3',
      title: 'Scaling to 3 gives a mysql-2 that already has the data',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        const mark = await writeOnPrimary(ctx);
        await ctx.kubectl(['scale', 'statefulset/mysql', '--replicas=3']);
        await waitPodsReady(ctx, ['mysql-2'], POD_TIMEOUT_MS);
        await waitRow(ctx, 'mysql-2.mysql', mark);
        ctx.note(`mysql-2 cloned mysql-1 (xtrabackup) and serves '${mark}'`);
      },
    },
    {
      id: 'mysql-read',
      title: 'The mysql-read Service answers reads, spread over more than one of the pods',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        const mark = await writeOnPrimary(ctx);
        const servers = new Set<string>();
        // Every backend must have the row before each of several reads through the Service finds it.
        await ctx.waitFor(
          `twelve reads through mysql-read to find '${mark}'`,
          async () => {
            servers.clear();
            for (let i = 0; i < 12; i++) {
              const res = await sql(ctx, 'mysql-read', `SELECT @@server_id, COUNT(*) FROM k8slab.message WHERE message = '${mark}';`, true);
              const [id, count] = res.stdout.trim().split(/\s+/);
              if (res.exitCode !== 0 || count !== '1') return undefined;
              servers.add(id!);
            }
            return true;
          },
          { timeoutMs: LIMITS.replication, intervalMs: 3000 },
        );
        // mysql-read spreads reads: kube-proxy picks a backend per connection, and each read is a new connection.
        if (servers.size < 2) {
          ctx.fail(
            `every read through mysql-read was answered by server-id ${[...servers].join(', ')}: the Service did not spread reads over mysql-0 and mysql-1`,
            'see `kubectl -n ' + ctx.ns + ' get endpoints mysql-read` (is every mysql pod a Ready endpoint?)',
          );
        }
        ctx.note(`mysql-read was answered by server-id ${[...servers].sort().join(', ')}`);
      },
    },
  ],
};
