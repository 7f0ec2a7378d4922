// The provisioning sequence, once, as data: which script runs on which role, with which arguments, in
// which order, where the lab CA is uploaded, and which step waits for the API server. `up` runs it
// (src/up/provision.ts); the Vagrantfile's provisioners say the same (a unit test holds them equal).
import { shQuote } from '../util/shell.js';

/** Where the lab CA is uploaded on the control plane before master_node.sh, which moves it into place. */
export const PKI_UPLOAD_DIR = '/tmp/k8slab-pki';

export type ProvisionStep =
  /** a script of the lab folder, run as root with these arguments */
  | { kind: 'script'; script: string; args: string[]; waitFor?: 'api-server' }
  /** files of the lab folder copied to the node (as the login user) into a folder made private first */
  | { kind: 'upload'; dir: string; prepare: string; files: { source: string; destination: string; mode: number }[] };

export interface Provisioning {
  controlPlane: ProvisionStep[];
  worker: ProvisionStep[];
}

/**
 * The course's order: config.sh and install_pkg.sh everywhere, then kubeadm init on the control plane
 * (given the lab CA) and a join on each worker once the API server answers. The CA is made in advance,
 * so the workers pin its hash without waiting for anything else from the control plane.
 */
export function provisioningOf(workerCount: number, k8sVersion: string): Provisioning {
  const common = (main: boolean): ProvisionStep[] => [
    { kind: 'script', script: 'config.sh', args: [String(workerCount)] },
    { kind: 'script', script: 'install_pkg.sh', args: main ? [k8sVersion, 'Main'] : [k8sVersion] },
  ];
  return {
    controlPlane: [
      ...common(true),
      {
        kind: 'upload',
        dir: PKI_UPLOAD_DIR,
        // owned by the login user, so its SFTP/file upload can write there and nobody else can read the key;
        // through sudo that user is SUDO_USER, and logged in as root without sudo it is root itself
        prepare: `install -d -m 0700 -o "\${SUDO_USER:-$(id -un)}" ${shQuote(PKI_UPLOAD_DIR)}`,
        files: [
          { source: 'pki/ca.crt', destination: `${PKI_UPLOAD_DIR}/ca.crt`, mode: 0o644 },
          { source: 'pki/ca.key', destination: `${PKI_UPLOAD_DIR}/ca.key`, mode: 0o600 },
        ],
      },
      { kind: 'script', script: 'master_node.sh', args: [] },
    ],
    worker: [...common(false), { kind: 'script', script: 'work_nodes.sh', args: [], waitFor: 'api-server' }],
  };
}
