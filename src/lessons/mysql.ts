// The replicated MySQL of course notes 004 (the Kubernetes tutorial "Run a Replicated Stateful
// Application"): mysql-0 takes writes, replicas follow it and refuse writes, a new replica clones the
// data, mysql-read spreads reads, and a DROP on the primary reaches the replicas. Two flavors
// (lab.yaml lessons.mysql.flavor), the same objects and checks: mariadb (mariadb-*.yaml: mariadb-backup,
// GTID replication) and mysql (mysql-*.yaml: the course's mysql:5.7 and xtrabackup).
import { LIMITS } from './limits.js';
import type { Capability, CheckContext, ExecResult, Lesson } from './types.js';
import { DEFAULT_IMAGES, FLAVOR_IMAGES, type ImageKey, type MysqlFlavor } from '../config/images.js';
import { getOrUndefined, listPods, token, waitPodsReady } from './lesson-steps.js';
import { isReady } from './k8s.js';
import { resolveName } from './probes.js';

const LESSON = 'mysql';
const CLIENT = 'mysql-client';
const NEEDS: readonly Capability[] = ['nodes', 'dns', 'defaultStorageClass'];
/** Image pulls, init containers and the backup clone take minutes on a fresh lab. */
const POD_TIMEOUT_MS = LIMITS.mysqlPods;
const CHECK_TIMEOUT_MS = LIMITS.mysqlCheck;

/** Per flavor: its manifests, the backup tool that clones a replica, and whether its default images are amd64-only. */
const FLAVORS: Readonly<Record<MysqlFlavor, { files: readonly string[]; backup: string; amd64Only: boolean }>> = {
  // The official mariadb image is multi-arch (amd64, arm64, ppc64le, s390x).
  mariadb: { files: ['mariadb-configmap.yaml', 'mysql-services.yaml', 'mariadb-statefulset.yaml'], backup: 'mariadb-backup', amd64Only: false },
  // mysql:5.7 and the tutorial's xtrabackup image exist for amd64 only.
  mysql: { files: ['mysql-configmap.yaml', 'mysql-services.yaml', 'mysql-statefulset.yaml'], backup: 'xtrabackup', amd64Only: true },
};

/** The manifests the flavor applies, in order (ConfigMap, Services, StatefulSet). */
export function flavorManifests(flavor: MysqlFlavor): readonly string[] {
  return FLAVORS[flavor].files;
}

/** Why the flavor's images cannot run here, or undefined when they (or overrides) can. */
export function imageProblem(
  images: Readonly<Partial<Record<ImageKey, string>>>,
  flavor: MysqlFlavor,
  capabilities: ReadonlySet<Capability>,
  arch: readonly string[],
): string | undefined {
  const defaults = FLAVOR_IMAGES[flavor].filter((k) => images[k] === undefined || images[k] === DEFAULT_IMAGES[k]);
  if (defaults.length === 0) return undefined;
  const names = defaults.map((k) => DEFAULT_IMAGES[k]).join(' and ');
  const comes = defaults.length > 1 ? 'come' : 'comes';
  if (!capabilities.has('internetImages')) {
    return `${names} ${comes} from the Internet, which the nodes cannot pull from; set images.${defaults.join(' and images.')} in lab.yaml to a reachable copy`;
  }
  const other = arch.filter((a) => a !== 'amd64');
  if (FLAVORS[flavor].amd64Only && other.length > 0) {
    return `${names} ${defaults.length > 1 ? 'exist' : 'exists'} for amd64 only and the cluster has ${other.join(', ')} nodes; set lessons.mysql.flavor: mariadb in lab.yaml (multi-arch), or override them`;
  }
  return undefined;
}

/** A failure, not a skip: the lab was not configured without the lesson, it cannot run it. */
function requireImages(ctx: CheckContext): void {
  const flavor = ctx.settings.mysql.flavor;
  const problem = imageProblem(ctx.images, flavor, ctx.facts.capabilities, ctx.facts.arch);
  if (problem) ctx.fail(problem, `set images.${FLAVOR_IMAGES[flavor].join(' and images.')} in lab.yaml to images the nodes can pull and run`);
}

/** Runs one statement as root against HOST from the client pod, as `mysql -h HOST -u root -e ...`. */
function sql(ctx: CheckContext, host: string, statement: string, allowFailure = false): Promise<ExecResult> {
  return ctx.exec(CLIENT, ['mysql', '-h', host, '-u', 'root', '--connect-timeout=5', '-N', '-B', '-e', statement], { allowFailure });
}

/** The tutorial's objects in the lab's flavor (created once: re-applying would undo a scale to 3) and the client pod. */
async function ensureMysql(ctx: CheckContext, ready: readonly string[]): Promise<void> {
  requireImages(ctx);
  if ((await getOrUndefined(ctx, ['statefulset', 'mysql'])) === undefined) {
    for (const file of flavorManifests(ctx.settings.mysql.flavor)) await ctx.apply(file);
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

/** MySQL's replicas refuse with --super-read-only, MariaDB's with --read-only (error 1290 either way). */
export const READ_ONLY_REFUSAL = /running with the --(super-)?read-only option/i;

/** Waits until HOST answers STATEMENT with EXPECTED (replication is asynchronous). */
async function waitAnswer(ctx: CheckContext, what: string, host: string, statement: string, expected: string): Promise<void> {
  await ctx.waitFor(
    what,
    async () => {
      const res = await sql(ctx, host, statement, true);
      return res.exitCode === 0 && res.stdout.trim() === expected ? true : undefined;
    },
    { timeoutMs: LIMITS.replication, intervalMs: 3000 },
  );
}

/** Waits until HOST answers a SELECT that finds `mark`. */
const waitRow = (ctx: CheckContext, host: string, mark: string) =>
  waitAnswer(ctx, `${host} to serve the row '${mark}'`, host, `SELECT message FROM k8slab.message WHERE message = '${mark}';`, mark);

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
      title: 'mysql-1 refuses a write, even from root: the replica runs read-only',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        // The table must exist on the replica, or the error would be "unknown database" instead.
        await waitRow(ctx, 'mysql-1.mysql', await writeOnPrimary(ctx));
        const res = await sql(ctx, 'mysql-1.mysql', "INSERT INTO k8slab.message VALUES ('written-on-a-replica');", true);
        if (res.exitCode === 0) ctx.fail('mysql-1 accepted an INSERT: a replica must be read-only');
        if (!READ_ONLY_REFUSAL.test(res.stderr)) ctx.fail(`mysql-1 refused the INSERT, but not for being read-only: ${res.stderr.trim()}`);
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
        ctx.note(`mysql-2 cloned mysql-1 (${FLAVORS[ctx.settings.mysql.flavor].backup}) and serves '${mark}'`);
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
    {
      id: 'host-mysql-vs-read',
      title: '`host mysql` answers the address of every mysql pod (headless); `host mysql-read` one ClusterIP',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        const clusterIp = (await ctx.kubectlJson<{ spec: { clusterIP?: string } }>(['get', 'service', 'mysql-read'])).spec.clusterIP;
        if (clusterIp === undefined || clusterIp === 'None' || clusterIp === '') ctx.fail(`mysql-read has no ClusterIP (${clusterIp ?? 'none'})`);
        // The headless name lists the Ready pods: compare with the pods of the moment, as DNS catches up.
        const seen = await ctx.waitFor(
          'mysql to resolve to the IP of every Ready mysql pod',
          async () => {
            const pods = (await listPods(ctx, 'app=mysql')).filter((p) => isReady(p) && p.status?.podIP !== undefined);
            const ips = pods.map((p) => p.status!.podIP!).sort();
            const got = await resolveName(ctx, CLIENT, 'mysql');
            return ips.length >= 2 && got.join(' ') === ips.join(' ') ? pods.map((p) => `${p.metadata.name} ${p.status!.podIP!}`) : undefined;
          },
          { timeoutMs: LIMITS.wait, intervalMs: 2000 },
        );
        const read = await resolveName(ctx, CLIENT, 'mysql-read');
        if (read.length !== 1 || read[0] !== clusterIp) {
          ctx.fail(`mysql-read resolved to ${read.join(', ') || 'nothing'}, not to its one ClusterIP ${clusterIp}`, `see \`kubectl -n ${ctx.ns} get service mysql-read\``);
        }
        ctx.note(`mysql -> ${seen.join(', ')}; mysql-read -> ${clusterIp} (its ClusterIP)`);
      },
    },
    {
      id: 'drop-reaches-replicas',
      title: 'A DROP DATABASE on mysql-0 reaches the replicas',
      needs: NEEDS,
      timeoutMs: CHECK_TIMEOUT_MS,
      async run(ctx: CheckContext) {
        await ensureMysql(ctx, ['mysql-0', 'mysql-1']);
        // A database of its own, so the other checks' table is left alone.
        const db = token('k8slab_drop').replaceAll('-', '_');
        await sql(ctx, 'mysql-0.mysql', `CREATE DATABASE ${db};`);
        const count = `SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${db}';`;
        // Every replica there is (mysql-2 too after scale-to-3); each must first have the database, or its
        // absence after the DROP would prove nothing.
        const replicas = (await listPods(ctx, 'app=mysql')).map((p) => p.metadata.name).filter((n) => n !== 'mysql-0' && /^mysql-\d+$/.test(n));
        if (!replicas.includes('mysql-1')) ctx.fail(`no replica pod mysql-1 among ${replicas.join(', ') || 'the app=mysql pods'}`);
        for (const r of replicas) await waitAnswer(ctx, `${r}.mysql to have the database ${db}`, `${r}.mysql`, count, '1');
        await sql(ctx, 'mysql-0.mysql', `DROP DATABASE ${db};`);
        for (const r of replicas) await waitAnswer(ctx, `the DROP of ${db} to reach ${r}.mysql`, `${r}.mysql`, count, '0');
        ctx.note(`created ${db} on mysql-0 and saw it on ${replicas.join(', ')}; after DROP DATABASE on mysql-0, none of them has it`);
      },
    },
  ],
};
