// The bundle module's public face: read, probe and judge a bundle; build or index one.
export { LAYOUT, BUNDLE_FORMAT, type BundleManifest, type ImageIndex } from './layout.js';
export { readBundle, type BundleInventory } from './inventory.js';
export { probeBundle, type BundleProbe, type Runner } from './probe.js';
export { checkBundle, kubeadmApiVersion, type BundleReport, type Finding } from './check.js';
export { buildImageIndex, writeImageIndex, hashMismatches } from './image-index.js';

import type { LabConfig } from '../config/schema.js';
import { readBundle } from './inventory.js';
import { probeBundle, type Runner } from './probe.js';
import { checkBundle, type BundleReport } from './check.js';
import { hashMismatches } from './image-index.js';

/** Everything `bundle check` does, as one call (also for `up`/`doctor` before a bundle lab starts). */
export async function inspectBundle(
  dir: string,
  opts: { lab?: LabConfig; verifyHashes?: boolean; run?: Runner; progress?: (file: string) => void } = {},
): Promise<BundleReport> {
  const inventory = await readBundle(dir);
  const probe = inventory.exists ? await probeBundle(inventory, opts.run) : { versions: {}, errors: [] };
  const mismatches =
    opts.verifyHashes && inventory.imageIndex ? await hashMismatches(inventory.dir, inventory.imageIndex, opts.progress) : [];
  return checkBundle({ inventory, probe, ...(opts.lab ? { lab: opts.lab } : {}), hashMismatches: mismatches });
}
