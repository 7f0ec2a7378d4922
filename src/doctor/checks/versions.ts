// A Kubernetes minor newer than this release of k8slab knows is allowed (with cni: bridge), but untested.
import type { LabConfig } from '../../config/schema.js';
import { NEWEST_KNOWN_MINOR, parseK8sVersion } from '../../config/versions.js';
import { type CheckResult, warn } from '../types.js';

export function checkKubernetesVersion(config: LabConfig): CheckResult[] {
  const v = parseK8sVersion(config.kubernetes.version)!;
  if (v.minor <= NEWEST_KNOWN_MINOR) return [];
  return [
    warn(
      'kubernetes-version',
      `Kubernetes ${config.kubernetes.version} is newer than the 1.${NEWEST_KNOWN_MINOR} this k8slab release was tested with`,
      `expect surprises, or use kubernetes.version: "1.${NEWEST_KNOWN_MINOR}"`,
    ),
  ];
}
