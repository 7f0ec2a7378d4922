// The k8slab command line: a thin shell over the library. Each command lives in commands/<name>.ts.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { UserError } from '../util/errors.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import * as init from './commands/init.js';
import * as render from './commands/render.js';
import * as doctor from './commands/doctor.js';
import * as up from './commands/up.js';
import * as status from './commands/status.js';
import * as ssh from './commands/ssh.js';
import * as snapshot from './commands/snapshot.js';
import * as down from './commands/down.js';
import * as verify from './commands/verify.js';
import * as bundle from './commands/bundle.js';

export function buildProgram(): Command {
  const program = new Command('k8slab')
    .description('A real multi-node kubeadm lab on your machine, the classic Kubernetes lessons proven on it.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const mod of [init, render, doctor, up, status, ssh, snapshot, down, verify, bundle]) mod.register(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version exit through here with code 0; usage errors were already printed.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof UserError) {
    process.stderr.write(`k8slab: ${err.message}\n${err.hint ? `  fix: ${err.hint}\n` : ''}`);
    return exitCodeOf(err.errorKind);
  }
  process.stderr.write(`k8slab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.failed;
}
