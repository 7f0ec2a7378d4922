// The shell scripts inside manifests/mysql/mariadb-statefulset.yaml (the mysql lesson's mariadb flavor), checked
// with real tools: bash -n and shellcheck on each; init-mysql run by bash (paths moved into a temp dir, hostname
// faked) to show it picks the role, server-id and files from the ordinal; the sidecar's GTID branch run on
// the two kinds of clone mariadb-backup leaves (of the primary, of a replica) and on a broken one; the clone
// script run with fake socat/mbstream/mariadb-backup/chown to show a complete clone lands in the datadir with
// the system schema last, and a leftover of an interrupted clone is removed first.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MANIFESTS_DIR } from '../../src/paths.js';
import { lintScripts } from '../fixtures/render/bash.js';
import { substitute } from '../../src/lessons/render.js';
import { DEFAULT_IMAGES } from '../../src/config/images.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
}

let scripts: Map<string, string>;
let images: string[];
let configMap: Record<string, string>;
let dir: string;

beforeAll(async () => {
  const sts = parse(await readFile(join(MANIFESTS_DIR, 'mysql', 'mariadb-statefulset.yaml'), 'utf8')) as {
    spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } };
  };
  const all = [...sts.spec.template.spec.initContainers, ...sts.spec.template.spec.containers];
  scripts = new Map(all.filter((c) => c.command?.[0] === 'bash').map((c) => [c.name, c.command![2]!] as const));
  images = all.map((c) => c.image);
  configMap = (parse(await readFile(join(MANIFESTS_DIR, 'mysql', 'mariadb-configmap.yaml'), 'utf8')) as { data: Record<string, string> }).data;
  dir = await mkdtemp(join(tmpdir(), 'k8slab-mariadb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs SCRIPT with bash, `hostname` answering HOST and the commands in FAKES (name -> body) first on PATH. */
async function run(script: string, host: string, fakes: Record<string, string> = {}, cwd = dir) {
  const bin = join(dir, 'bin');
  await rm(bin, { recursive: true, force: true });
  await mkdir(bin);
  for (const [name, body] of Object.entries({ hostname: `echo ${host}`, ...fakes })) {
    await writeFile(join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  return spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
}

describe('the MariaDB flavor scripts', () => {
  it('are the tutorial\'s four containers, every one on ${image.mariadb}', () => {
    expect([...scripts.keys()].sort()).toEqual(['clone-mysql', 'init-mysql', 'mariadb-backup', 'mysql']);
    expect(new Set(images)).toEqual(new Set(['${image.mariadb}']));
  });

  it('render as the runner renders them: no shell $-brace the runner would take for a placeholder', async () => {
    for (const file of ['mariadb-statefulset.yaml', 'mariadb-configmap.yaml']) {
      const raw = await readFile(join(MANIFESTS_DIR, 'mysql', file), 'utf8');
      const text = substitute(raw, { images: DEFAULT_IMAGES, namespace: 'k8slab-mysql', lesson: 'mysql' }, file);
      expect(text).not.toContain('${');
    }
  });

  it('parse with bash -n and pass shellcheck', async () => {
    const results = await lintScripts(dir, scripts);
    expect(results.map((r) => r.name)).toEqual([...scripts.keys()]);
    for (const r of results) expect(r).toEqual({ name: r.name, syntax: { status: 0, stderr: '' }, lint: { status: 0, out: '' } });
  });

  it('init-mysql gives mysql-0 the primary files, the others read-only, every pod server.cnf and server-id 100+N', async () => {
    const root = join(dir, 'mnt');
    await mkdir(join(root, 'config-map'), { recursive: true });
    for (const [k, v] of Object.entries(configMap)) await writeFile(join(root, 'config-map', k), v);
    const script = scripts.get('init-mysql')!.replaceAll('/mnt/', `${root}/`);
    const runAs = async (host: string) => {
      await rm(join(root, 'conf.d'), { recursive: true, force: true });
      await mkdir(join(root, 'conf.d'));
      const res = await run(script, host);
      const files = res.status === 0 ? (await readdir(join(root, 'conf.d'))).sort() : [];
      const id = files.includes('server-id.cnf') ? (await readFile(join(root, 'conf.d', 'server-id.cnf'), 'utf8')).trim() : '';
      return { status: res.status, files, id };
    };
    expect(await runAs('mysql-0')).toEqual({ status: 0, files: ['primary.cnf', 'primary.sql', 'server-id.cnf', 'server.cnf'], id: '[mysqld]\nserver-id=100' });
    expect(await runAs('mysql-2')).toEqual({ status: 0, files: ['replica.cnf', 'server-id.cnf', 'server.cnf'], id: '[mysqld]\nserver-id=102' });
    expect((await runAs('no-ordinal')).status).not.toBe(0);
  });

  it('the ConfigMap: the primary logs binlogs and runs primary.sql; replicas are read-only; primary.sql takes READ_ONLY ADMIN from root@\'%\'', () => {
    expect(configMap['primary.cnf']).toMatch(/^log-bin=mysql-0-bin$/m);
    expect(configMap['primary.cnf']).toMatch(/^init-file=\/etc\/mysql\/conf\.d\/primary\.sql$/m);
    expect(configMap['replica.cnf']).toMatch(/^read-only$/m);
    expect(configMap['server.cnf']).toMatch(/^skip-name-resolve$/m);
    const sql = configMap['primary.sql']!.split('\n').filter((l) => !l.startsWith('--') && l.trim() !== '');
    expect(sql).toEqual([
      "CREATE USER IF NOT EXISTS 'root'@'%';",
      "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;",
      "REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';",
    ]);
  });

  describe('the mariadb-backup sidecar', () => {
    // Everything up to the server wait: where the clone stops, as the statement it will run.
    const branch = () => {
      const body = scripts.get('mariadb-backup')!;
      return body.slice(body.indexOf('cd /var/lib/mysql') + 'cd /var/lib/mysql'.length, body.indexOf('# Start replication from there once'));
    };
    const sidecar = async (files: Record<string, string>) => {
      const data = join(dir, 'data');
      await rm(data, { recursive: true, force: true });
      await mkdir(data);
      for (const [k, v] of Object.entries(files)) await writeFile(join(data, k), v);
      const res = await run(`set -e\n${branch()}`, 'mysql-2', {}, data);
      const left = (await readdir(data)).sort();
      const sql = left.includes('change_master_to.sql.in') ? (await readFile(join(data, 'change_master_to.sql.in'), 'utf8')).trim() : undefined;
      return { status: res.status, left, sql };
    };

    it('a clone of the primary: the GTID from xtrabackup_binlog_info (file, position, GTID)', async () => {
      expect(await sidecar({ xtrabackup_binlog_info: 'mysql-0-bin.000001\t1294\t0-100-6\n' })).toEqual({
        status: 0,
        left: ['change_master_to.sql.in'],
        sql: "SET GLOBAL gtid_slave_pos = '0-100-6'; CHANGE MASTER TO MASTER_USE_GTID = slave_pos",
      });
    });

    it('a clone of a replica: the GTID the replica had applied, from xtrabackup_slave_info', async () => {
      const slaveInfo = "SET GLOBAL gtid_slave_pos = '0-100-7';\nCHANGE MASTER TO master_use_gtid = slave_pos;\n";
      expect(await sidecar({ xtrabackup_slave_info: slaveInfo, xtrabackup_binlog_info: '' })).toEqual({
        status: 0,
        left: ['change_master_to.sql.in'],
        sql: "SET GLOBAL gtid_slave_pos = '0-100-7'; CHANGE MASTER TO MASTER_USE_GTID = slave_pos",
      });
    });

    it('MariaDB 11.1 and later: the same from mariadb_backup_binlog_info / mariadb_backup_slave_info', async () => {
      expect(await sidecar({ mariadb_backup_binlog_info: 'mysql-0-bin.000002\t342\t0-100-9\n' })).toEqual({
        status: 0,
        left: ['change_master_to.sql.in'],
        sql: "SET GLOBAL gtid_slave_pos = '0-100-9'; CHANGE MASTER TO MASTER_USE_GTID = slave_pos",
      });
      expect((await sidecar({ mariadb_backup_slave_info: "SET GLOBAL gtid_slave_pos = '0-100-11';\n" })).sql).toBe(
        "SET GLOBAL gtid_slave_pos = '0-100-11'; CHANGE MASTER TO MASTER_USE_GTID = slave_pos",
      );
    });

    it('a slave info without a GTID stops the sidecar; a pod that was never cloned (the primary) starts nothing', async () => {
      const bad = await sidecar({ xtrabackup_slave_info: "CHANGE MASTER TO MASTER_LOG_FILE='x', MASTER_LOG_POS=4;\n" });
      expect(bad.status).not.toBe(0);
      expect(bad.sql).toBeUndefined();
      expect(await sidecar({})).toEqual({ status: 0, left: [], sql: undefined });
    });
  });

  it('clone-mysql: a complete prepared copy lands in the datadir, the system schema last; leftovers go first; mysql-0 and a pod with data clone nothing', async () => {
    const data = join(dir, 'clone-data');
    const script = scripts.get('clone-mysql')!.replaceAll('/var/lib/mysql', data);
    const log = join(dir, 'clone.log');
    const fakes = {
      // the peer's stream, as mbstream would unpack it: a data file, the system schema and the backup's info
      socat: `echo "socat $*" >> ${log}; echo stream`,
      mbstream: `echo "mbstream $* <$(cat)" >> ${log}; mkdir -p mysql k8slab; touch ibdata1 mysql/global_priv.MAI k8slab/message.ibd xtrabackup_binlog_info`,
      'mariadb-backup': `echo "mariadb-backup $* in $PWD" >> ${log}; [[ -d mysql ]]`,
      chown: `echo "chown $*" >> ${log}`,
    };
    await rm(data, { recursive: true, force: true });
    await mkdir(join(data, 'k8slab'), { recursive: true });
    await writeFile(join(data, 'leftover.ibd'), 'from an interrupted clone');
    await writeFile(log, '');
    const res = await run(script, 'mysql-2', fakes);
    expect(res.status, res.stderr).toBe(0);
    expect((await readdir(data)).sort()).toEqual(['ibdata1', 'k8slab', 'mysql', 'xtrabackup_binlog_info']);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
      'socat -u TCP:mysql-1.mysql:3307 STDOUT',
      'mbstream -x <stream',
      `mariadb-backup --prepare --target-dir=. in ${data}/.clone`,
      `chown -R mysql:mysql ${data}`,
    ]);
    // Run again: the data is there, nothing is cloned.
    await writeFile(log, '');
    expect((await run(script, 'mysql-2', fakes)).status).toBe(0);
    expect(await readFile(log, 'utf8')).toBe('');
    await rm(data, { recursive: true, force: true });
    await mkdir(data);
    expect((await run(script, 'mysql-0', fakes)).status).toBe(0);
    expect(await readFile(log, 'utf8')).toBe('');
  });
});
