// Which of a bundle's files a node needs. A worker never runs the control plane's own images, so copying
// a bundle to a worker leaves them out (about half the bundle), as the Vagrantfile's rsync does.
import { LAYOUT, imageIndexSchema } from './layout.js';

const CONTROL_PLANE_IMAGE = /\/(kube-apiserver|kube-controller-manager|kube-scheduler|etcd):/;

/**
 * Paths (relative to the bundle) of the image tarballs that only the control plane imports: every image
 * they hold is one of its own. An unreadable index gives [] (every worker gets everything: slower, works).
 */
export function controlPlaneOnlyFiles(indexJson: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(indexJson);
  } catch {
    return [];
  }
  const index = imageIndexSchema.safeParse(parsed);
  if (!index.success) return [];
  return index.data.images.filter((e) => e.images.every((n) => CONTROL_PLANE_IMAGE.test(n))).map((e) => `${LAYOUT.images}/${e.file}`);
}
