// The mysql lesson's checks against a FAKE cluster: an executor that answers the kubectl calls the checks make,
// with a small model of a primary and its replicas behind it. A working model passes every check, in either
// flavor; each sabotage (a replica that takes writes, refuses them for another reason, never applies a
// DROP, or a mysql-read that always lands on one pod) fails the check that claims to detect it.
import { describe, expect, it } from 'vitest';
import { parse } from 'shell-quote';
import { join } from 'node:path';
import { mysql, READ_ONLY_REFUSAL } from '../../src/lessons/mysql.js';
import { DEFAULT_IMAGES, MYSQL_FLAVORS, type MysqlFlavor } from '../../src/config/images.js';
import { MANIFESTS_DIR } from '../../src/paths.js';
import type { Capability, ExecResult } from '../../src/lessons/types.js';
import type { Runner } from '../../src/nodes/node.js';
import { noFacts, testContext } from '../lesson-context.js';

interface Sabotage {
  /** a replica accepts writes */
  writableReplica?: boolean;
  /** a replica refuses writes, but with another error */
  otherRefusal?: boolean;
  /** replicas never apply a DROP DATABASE */
  dropNotReplicated?: boolean;
  /** mysql-read always reaches mysql-0 */
  oneBackend?: boolean;
  /** `mysql` resolves to a ClusterIP, as a Service that is not headless does */
  notHeadless?: boolean;
  /** `mysql-read` resolves to the pods' addresses, as a headless Service does */
  readHeadless?: boolean;
}

const READ_IP = '10.96.7.7';

const REFUSAL: Record<MysqlFlavor, string> = {
  mysql: 'ERROR 1290 (HY000) at line 1: The MySQL server is running with the --super-read-only option so it cannot execute this statement',
  mariadb: 'ERROR 1290 (HY000) at line 1: The MariaDB server is running with the --read-only option so it cannot execute this statement',
};

/** The cluster: pods mysql-0..N-1 (0 the primary), each with databases and rows; replication is immediate. */
class FakeCluster implements Runner {
  readonly name = 'fake';
  readonly applied: string[] = [];
  /** the manifests applied, as kubectl got them */
  readonly inputs: string[] = [];
  private pods = 2;
  private statefulset = false;
  private readonly dbs = new Map<string, Set<string>>();
  private readonly rows = new Map<string, string[]>();
  private reads = 0;

  constructor(
    private readonly flavor: MysqlFlavor,
    private readonly sabotage: Sabotage = {},
  ) {}

  async run(line: string, opts: { input?: string } = {}): Promise<ExecResult> {
    const argv = parse(line).map(String);
    const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
    const i = argv.indexOf('--');
    if (argv.includes('apply')) {
      this.inputs.push(opts.input ?? '');
      const kinds = [...(opts.input ?? '').matchAll(/^kind: (\w+)\n(?:.*\n)*?metadata:\n(?:.*\n)*?\s+name: ([\w-]+)/gm)].map((m) => `${m[1]}/${m[2]}`);
      this.applied.push(...kinds);
      if (kinds.includes('StatefulSet/mysql')) this.statefulset = true;
      return ok(kinds.map((k) => `${k.toLowerCase()} created`).join('\n'));
    }
    if (argv.includes('scale')) {
      const want = Number(argv.find((a) => a.startsWith('--replicas='))!.split('=')[1]);
      // a new pod clones the one before it
      for (let n = this.pods; n < want; n++) {
        this.dbs.set(`mysql-${n}`, new Set(this.dbsOf(`mysql-${n - 1}`)));
        this.rows.set(`mysql-${n}`, [...this.rowsOf(`mysql-${n - 1}`)]);
      }
      this.pods = want;
      return ok();
    }
    if (argv.includes('get')) {
      const [kind, name] = argv.slice(argv.indexOf('get') + 1);
      if (kind === 'statefulset') return this.statefulset ? ok('{}') : { exitCode: 1, stdout: '', stderr: 'Error from server (NotFound): statefulsets.apps "mysql" not found' };
      if (kind === 'pods') return ok(JSON.stringify({ items: this.podNames().map((n) => this.pod(n)) }));
      if (kind === 'service') return ok(JSON.stringify({ spec: { clusterIP: name === 'mysql-read' ? READ_IP : 'None' } }));
      return ok(JSON.stringify(this.pod(name!)));
    }
    if (argv.includes('exec') && i > 0 && argv[i + 1] === 'dig') return ok(this.dns(argv.at(-2)!).map((a) => `${a}\n`).join(''));
    if (argv.includes('exec') && i > 0) return this.sql(argv.slice(i + 1));
    throw new Error(`the fake cluster has no answer for: ${line}`);
  }

  private podNames(): string[] {
    return Array.from({ length: this.pods }, (_, n) => `mysql-${n}`);
  }

  private pod(name: string): object {
    const ip = `10.1.0.${10 + Number(name.split('-')[1])}`;
    return { metadata: { name }, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } };
  }

  /** dig +short +search NAME A, as CoreDNS answers it */
  private dns(name: string): string[] {
    const podIps = this.podNames().map((n) => `10.1.0.${10 + Number(n.split('-')[1])}`);
    if (name === 'mysql') return this.sabotage.notHeadless ? ['10.96.7.8'] : podIps;
    if (name === 'mysql-read') return this.sabotage.readHeadless ? podIps : [READ_IP];
    return [];
  }

  /** mysql -h HOST ... -e STATEMENTS, as the client pod runs it */
  private sql(argv: string[]): ExecResult {
    const host = argv[argv.indexOf('-h') + 1]!;
    const statements = argv[argv.indexOf('-e') + 1]!.split(';').map((s) => s.trim()).filter(Boolean);
    const n = host === 'mysql-read' ? (this.sabotage.oneBackend ? 0 : this.reads++ % this.pods) : Number(/^mysql-(\d+)/.exec(host)![1]);
    if (n >= this.pods) return { exitCode: 1, stdout: '', stderr: `ERROR 2005 (HY000): Unknown server host '${host}'` };
    const out: string[] = [];
    for (const st of statements) {
      const write = /^(CREATE|INSERT|DROP)/i.test(st);
      if (write && n > 0 && !this.sabotage.writableReplica) {
        return { exitCode: 1, stdout: '', stderr: this.sabotage.otherRefusal ? "ERROR 1142 (42000): INSERT command denied to user 'root'@'10.1.1.5'" : REFUSAL[this.flavor] };
      }
      let m: RegExpExecArray | null;
      const targets = n === 0 ? this.podNames() : [`mysql-${n}`];
      if ((m = /^CREATE DATABASE (?:IF NOT EXISTS )?(\w+)/i.exec(st))) for (const t of targets) this.dbsOf(t).add(m[1]!);
      else if ((m = /^DROP DATABASE (\w+)/i.exec(st))) {
        for (const t of this.sabotage.dropNotReplicated ? [`mysql-${n}`] : targets) this.dbsOf(t).delete(m[1]!);
      } else if ((m = /^INSERT INTO k8slab\.message VALUES \('([^']*)'\)/i.exec(st))) for (const t of targets) this.rowsOf(t).push(m[1]!);
      else if ((m = /^SELECT message FROM k8slab\.message WHERE message = '([^']*)'/i.exec(st))) out.push(...this.rowsOf(`mysql-${n}`).filter((r) => r === m![1]));
      else if ((m = /^SELECT @@server_id, COUNT\(\*\) FROM k8slab\.message WHERE message = '([^']*)'/i.exec(st))) {
        out.push(`${100 + n}\t${this.rowsOf(`mysql-${n}`).filter((r) => r === m![1]).length}`);
      } else if ((m = /^SELECT COUNT\(\*\) FROM information_schema\.schemata WHERE schema_name = '(\w+)'/i.exec(st))) {
        out.push(this.dbsOf(`mysql-${n}`).has(m[1]!) ? '1' : '0');
      } else if (!/^CREATE TABLE/i.test(st)) throw new Error(`the fake cluster has no answer for the statement: ${st}`);
    }
    return { exitCode: 0, stdout: out.map((l) => `${l}\n`).join(''), stderr: '' };
  }

  private dbsOf(pod: string): Set<string> {
    if (!this.dbs.has(pod)) this.dbs.set(pod, new Set());
    return this.dbs.get(pod)!;
  }
  private rowsOf(pod: string): string[] {
    if (!this.rows.has(pod)) this.rows.set(pod, []);
    return this.rows.get(pod)!;
  }
}

const caps: Capability[] = ['nodes', 'dns', 'defaultStorageClass', 'internetImages'];
function contextFor(cluster: FakeCluster, flavor: MysqlFlavor) {
  return testContext({
    lesson: 'mysql',
    ns: 'k8slab-mysql',
    manifestsDir: join(MANIFESTS_DIR, 'mysql'),
    executor: cluster,
    images: DEFAULT_IMAGES,
    settings: { mysql: { flavor } },
    facts: { ...noFacts(), capabilities: new Set(caps), arch: ['amd64'] },
    // The replication waits give up at once (their interval is longer than the scaled limit).
    timeScale: 0.001,
  });
}
const check = (id: string) => mysql.checks.find((c) => c.id === id)!;

describe('the mysql checks on a fake cluster', () => {
  it.each(MYSQL_FLAVORS)('%s: a working primary and replicas pass every check; the flavor picks its own manifests', async (flavor) => {
    const cluster = new FakeCluster(flavor);
    for (const c of mysql.checks) await check(c.id).run(contextFor(cluster, flavor));
    expect(cluster.applied.slice(0, 4)).toEqual(['ConfigMap/mysql', 'Service/mysql', 'Service/mysql-read', 'StatefulSet/mysql']);
    const images = [...cluster.inputs.join('\n').matchAll(/image: (\S+)/g)].map((m) => m[1]);
    const own = flavor === 'mariadb' ? [DEFAULT_IMAGES.mariadb] : [DEFAULT_IMAGES.mysql, DEFAULT_IMAGES.xtrabackup];
    expect(new Set(images)).toEqual(new Set([...own, DEFAULT_IMAGES.tools]));
  });

  it.each(MYSQL_FLAVORS)('%s: replica-read-only fails when a replica takes root\'s write, or refuses it for another reason', async (flavor) => {
    await expect(check('replica-read-only').run(contextFor(new FakeCluster(flavor, { writableReplica: true }), flavor))).rejects.toThrow(
      /mysql-1 accepted an INSERT/,
    );
    await expect(check('replica-read-only').run(contextFor(new FakeCluster(flavor, { otherRefusal: true }), flavor))).rejects.toThrow(
      /not for being read-only: ERROR 1142/,
    );
  });

  it.each(MYSQL_FLAVORS)('%s: drop-reaches-replicas fails when the replicas keep a dropped database', async (flavor) => {
    await expect(check('drop-reaches-replicas').run(contextFor(new FakeCluster(flavor, { dropNotReplicated: true }), flavor))).rejects.toThrow(
      /waiting for the DROP of k8slab_drop_[0-9a-f]+ to reach mysql-1\.mysql/,
    );
  });

  it('drop-reaches-replicas checks every replica, mysql-2 too after a scale to 3', async () => {
    const cluster = new FakeCluster('mariadb');
    const ctx = contextFor(cluster, 'mariadb');
    await check('scale-to-3').run(ctx);
    await check('drop-reaches-replicas').run(ctx);
    expect(ctx.notes.at(-1)).toMatch(/saw it on mysql-1, mysql-2; after DROP DATABASE on mysql-0, none of them has it/);
  });

  it('host-mysql-vs-read fails when mysql is not headless, or mysql-read resolves to the pods', async () => {
    await expect(check('host-mysql-vs-read').run(contextFor(new FakeCluster('mariadb', { notHeadless: true }), 'mariadb'))).rejects.toThrow(
      /waiting for mysql to resolve to the IP of every Ready mysql pod/,
    );
    await expect(check('host-mysql-vs-read').run(contextFor(new FakeCluster('mariadb', { readHeadless: true }), 'mariadb'))).rejects.toThrow(
      'mysql-read resolved to 10.1.0.10, 10.1.0.11, not to its one ClusterIP 10.96.7.7',
    );
  });

  it('mysql-read fails when one backend answers every read', async () => {
    await expect(check('mysql-read').run(contextFor(new FakeCluster('mariadb', { oneBackend: true }), 'mariadb'))).rejects.toThrow(
      /every read through mysql-read was answered by server-id 100/,
    );
  });

  it('READ_ONLY_REFUSAL takes both servers\' refusals and nothing else', () => {
    expect(REFUSAL.mysql).toMatch(READ_ONLY_REFUSAL);
    expect(REFUSAL.mariadb).toMatch(READ_ONLY_REFUSAL);
    expect("ERROR 1142 (42000): INSERT command denied to user 'root'").not.toMatch(READ_ONLY_REFUSAL);
    expect('ERROR 1290 (HY000): The MariaDB server is running with the --skip-grant-tables option').not.toMatch(READ_ONLY_REFUSAL);
  });
});
