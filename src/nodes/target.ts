// Where a node's sshd is and how to log in. The orchestrator builds these from `vagrant ssh-config`;
// this layer never knows about Vagrant.
export interface SshTarget {
  /** node name as the user knows it (e.g. "m-k8s"); used in every message */
  name: string;
  host: string;
  port: number;
  user: string;
  /** an unencrypted OpenSSH or PEM private key (key auth only) */
  privateKeyPath: string;
}

/** "m-k8s (vagrant@127.0.0.1:2222)" */
export function describeTarget(t: SshTarget): string {
  return `${t.name} (${t.user}@${t.host}:${t.port})`;
}
