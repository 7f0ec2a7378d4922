// Where the shared test bench lives, in one place for every test that uses it. By default the scripts sit in
// ../shared/testbed beside the project root (how CI lays the clone out); K8SLAB_TESTBED_DIR points a clone
// elsewhere at them. The cache root is the testbed scripts' own K8SLAB_TESTBED_CACHE, with their default.
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const TESTBED = process.env.K8SLAB_TESTBED_DIR ? resolve(process.env.K8SLAB_TESTBED_DIR) : resolve(ROOT, '../shared/testbed');
export const CACHE = process.env.K8SLAB_TESTBED_CACHE ?? '/var/cache/k8slab-testbed';

/** a testbed script's absolute path, e.g. testbedScript('libvirt.sh') */
export const testbedScript = (name: string): string => join(TESTBED, name);
