// The shell scripts inside manifests/mysql/mysql-statefulset.yaml, checked with real tools: bash -n and
// shellcheck on each, and init-mysql run for real by bash (paths moved into a temp dir, hostname faked)
// to show it picks the role and server-id from the pod's ordinal.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MANIFESTS_DIR } from '../../src/paths.js';
import { lintScripts } from '../fixtures/render/bash.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
}

let scripts: Map<string, string>;
let dir: string;

beforeAll(async () => {
  const sts = parse(await readFile(join(MANIFESTS_DIR, 'mysql', 'mysql-statefulset.yaml'), 'utf8')) as {
    spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } };
  };
  const { initContainers, containers } = sts.spec.template.spec;
  scripts = new Map(
    [...initContainers, ...containers].filter((c) => c.command?.[0] === 'bash').map((c) => [c.name, c.command![2]!] as const),
  );
  dir = await mkdtemp(join(tmpdir(), 'k8slab-mysql-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the replicated MySQL scripts', () => {
  it('are the three of the tutorial, each a bash -c script', () => {
    expect([...scripts.keys()].sort()).toEqual(['clone-mysql', 'init-mysql', 'xtrabackup']);
  });

  it('parse with bash -n and pass shellcheck', async () => {
    const results = await lintScripts(dir, scripts);
    expect(results.map((r) => r.name)).toEqual([...scripts.keys()]);
    for (const r of results) expect(r).toEqual({ name: r.name, syntax: { status: 0, stderr: '' }, lint: { status: 0, out: '' } });
  });

  it('init-mysql gives mysql-0 the primary config and the others the replica config, server-id 100+N', async () => {
    const root = join(dir, 'mnt');
    await mkdir(join(root, 'config-map'), { recursive: true });
    await writeFile(join(root, 'config-map', 'primary.cnf'), '[mysqld]\nlog-bin\n');
    await writeFile(join(root, 'config-map', 'replica.cnf'), '[mysqld]\nsuper-read-only\n');
    const script = scripts.get('init-mysql')!.replaceAll('/mnt/', `${root}/`);
    const runAs = async (host: string) => {
      await rm(join(root, 'conf.d'), { recursive: true, force: true });
      await mkdir(join(root, 'conf.d'));
      // `hostname` answers what the pod's would: its StatefulSet name.
      const res = spawnSync('bash', ['-c', `hostname() { echo ${host}; }; export -f hostname; bash -c "$0"`, script], { encoding: 'utf8' });
      const files = res.status === 0 ? (await readdir(join(root, 'conf.d'))).sort() : [];
      const id = files.includes('server-id.cnf') ? (await readFile(join(root, 'conf.d', 'server-id.cnf'), 'utf8')).trim() : '';
      return { status: res.status, files, id };
    };
    expect(await runAs('mysql-0')).toEqual({ status: 0, files: ['primary.cnf', 'server-id.cnf'], id: '[mysqld]\nserver-id=100' });
    expect(await runAs('mysql-2')).toEqual({ status: 0, files: ['replica.cnf', 'server-id.cnf'], id: '[mysqld]\nserver-id=102' });
    expect((await runAs('no-ordinal')).status).not.toBe(0);
  });

  it('xtrabackup turns a clone of the primary into a CHANGE MASTER statement at its binlog position', () => {
    // The part of the sidecar that reads xtrabackup_binlog_info, run on a sample file.
    const body = scripts.get('xtrabackup')!;
    const start = body.indexOf('elif [[ -f xtrabackup_binlog_info ]]; then');
    const end = body.indexOf('fi\n', start);
    const branch = body.slice(start + 'elif [[ -f xtrabackup_binlog_info ]]; then'.length, end);
    const out = execFileSync('bash', ['-ec', `cd "$1"; printf 'mysql-0-bin.000003\\t154\\n' > xtrabackup_binlog_info\n${branch}\ncat change_master_to.sql.in`, 'x', dir], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe("CHANGE MASTER TO MASTER_LOG_FILE='mysql-0-bin.000003', MASTER_LOG_POS=154");
  });
});
