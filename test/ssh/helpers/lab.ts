// A throw-away set of SSH "nodes" for one test file: namespaces + veths + sshd, with cleanup that
// runs from afterAll and, should the worker die first, from a process 'exit' hook.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../../src/nodes/target.js';
import { NetnsRun, sweepLeftovers, type NsNode } from './netns.js';
import { makeKeys, startSshd, writeSshdConfig, type RunningSshd, type SshdOptions, type SshKeys } from './sshd.js';

export interface TestNode extends NsNode {
  name: string;
  target: SshTarget;
  sshd?: RunningSshd;
  startSshd(): Promise<RunningSshd>;
}

export class SshTestLab {
  readonly dir: string;
  readonly keys: SshKeys;
  readonly swept: string[];
  private readonly net = new NetnsRun();
  private readonly children = new Set<ChildProcess>();
  private readonly onExit = (): void => this.cleanup();
  private cleaned = false;

  constructor() {
    const runStart = Date.now();
    this.swept = sweepLeftovers(runStart);
    process.on('exit', this.onExit);
    this.dir = mkdtempSync(join(tmpdir(), 'k8slab-t-ssh-'));
    this.keys = makeKeys(this.dir);
  }

  /** A namespace node; with `sshd: false` nothing listens until node.startSshd(). */
  async addNode(name: string, opts: SshdOptions & { sshd?: boolean } = {}): Promise<TestNode> {
    const ns = this.net.addNode();
    const config = writeSshdConfig(this.dir, name, ns.nodeIp, this.keys, opts);
    const node: TestNode = {
      ...ns,
      name,
      target: { name, host: ns.nodeIp, port: 22, user: 'root', privateKeyPath: this.keys.clientKey },
      startSshd: async () => {
        node.sshd = await startSshd(ns.ns, config);
        this.children.add(node.sshd.child);
        return node.sshd;
      },
    };
    if (opts.sshd !== false) await node.startSshd();
    return node;
  }

  /** Runs a program inside the node's namespace (a test server); killed at cleanup. */
  spawnIn(node: NsNode, command: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', node.ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    return child;
  }

  /** Idempotent and synchronous: kills what we started, deletes namespaces (and so veths), removes keys. */
  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    this.children.clear();
    this.net.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}
