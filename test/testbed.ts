// Where the shared test bench lives, in one place for every test that uses it. By default the scripts sit in
// ../shared/testbed beside the project root (how CI lays the clone out); K8SLAB_TESTBED_DIR points a clone
// elsewhere at them. The cache root is the testbed scripts' own K8SLAB_TESTBED_CACHE, with their default.
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const TESTBED = process.env.K8SLAB_TESTBED_DIR ? resolve(process.env.K8SLAB_TESTBED_DIR) : resolve(ROOT, '../shared/testbed');
export const CACHE = process.env.K8SLAB_TESTBED_CACHE ?? '/var/cache/k8slab-testbed';

/** a testbed script's absolute path, e.g. testbedScript('libvirt.sh') */
export const testbedScript = (name: string): string => join(TESTBED, name);

/**
 * lab.yaml's `images:` block that points every lesson image at the testbed's own images (images.sh builds
 * k8slab.local/app:1 and k8slab.local/tools:1 into the bundle): a lab written from it pulls nothing.
 */
export const TESTBED_IMAGES_YAML = `images:
  app: k8slab.local/app:1
  myweb: k8slab.local/app:1
  nginx: k8slab.local/app:1
  init: k8slab.local/tools:1
  tools: k8slab.local/tools:1
  busybox: k8slab.local/tools:1
`;
