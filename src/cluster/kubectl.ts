// The one way to run kubectl on the lab: on the control plane, as root, with kubeadm's admin kubeconfig.
// `up`'s waits, `status`, `reset` and the lessons all go through it; a command reads as a learner
// types it (`kubectl get nodes`), and the kubeconfig is set in front of it.
import type { Runner } from '../nodes/node.js';
import { shQuote } from '../util/shell.js';

export const ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
/** kubectl under software emulation on a loaded host can take tens of seconds. */
export const KUBECTL_TIMEOUT_MS = 120_000;

export function kubectlOn(controlPlane: Runner, o: { kubeconfig?: string; sudo?: boolean } = {}): Runner {
  const kubeconfig = o.kubeconfig ?? ADMIN_KUBECONFIG;
  const sudo = o.sudo ?? true; // admin.conf is root's
  return {
    name: controlPlane.name,
    run: (command, ro = {}) =>
      controlPlane.run(`export KUBECONFIG=${shQuote(kubeconfig)}\n${command}`, { timeoutMs: KUBECTL_TIMEOUT_MS, ...ro, sudo }),
  };
}
