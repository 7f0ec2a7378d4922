// Versions the config accepts but that carry a risk: a Kubernetes or a Calico newer than k8slab's
// tables (accepted, so a lagging table never blocks a current release), and a Kubernetes past its end of life.
import type { LabConfig } from '../../config/schema.js';
import {
  CALICO_SUPPORT,
  DEFAULT_VERSIONS,
  NEWEST_CALICO_MINOR,
  NEWEST_KNOWN_MINOR,
  kubernetesEol,
  minorNumber,
  minorOf,
  parseK8sVersion,
} from '../../config/versions.js';
import type { HostFacts } from '../facts.js';
import { type CheckResult, pass, warn } from '../types.js';

export function checkKubernetesVersion(config: LabConfig, f: Pick<HostFacts, 'today'>): CheckResult[] {
  const v = parseK8sVersion(config.kubernetes.version)!;
  const asked = config.kubernetes.version;
  const out: CheckResult[] = [];
  const calico = config.kubernetes.cni === 'calico';
  const cm = minorOf(config.calico.version);
  const calicoKnown = CALICO_SUPPORT[cm] !== undefined;

  if (calico && !calicoKnown && minorNumber(cm) > minorNumber(NEWEST_CALICO_MINOR)) {
    out.push(
      warn(
        'calico-version',
        `Calico ${config.calico.version} is newer than the releases k8slab knows (up to ${NEWEST_CALICO_MINOR}): its tested Kubernetes versions are not in k8slab's table`,
        `check Calico's system requirements for Kubernetes 1.${v.minor}, or use calico.version ${DEFAULT_VERSIONS.calico}`,
      ),
    );
  }
  if (v.minor > NEWEST_KNOWN_MINOR) {
    out.push(
      calico && calicoKnown
        ? warn(
            'kubernetes-version',
            `Kubernetes ${asked} is newer than any Calico release k8slab knows is tested with (Calico ${cm} up to 1.${CALICO_SUPPORT[cm]![1]}): the pod network may not come up, and the lab then never gets Ready`,
            `use kubernetes.version "1.${NEWEST_KNOWN_MINOR}", or a Calico release tested with 1.${v.minor} (calico.version), or kubernetes.cni: bridge`,
          )
        : warn(
            'kubernetes-version',
            `Kubernetes ${asked} is newer than the 1.${NEWEST_KNOWN_MINOR} this k8slab release was tested with`,
            `expect surprises, or use kubernetes.version: "1.${NEWEST_KNOWN_MINOR}"`,
          ),
    );
  }

  const eol = kubernetesEol(v.minor);
  if (eol !== undefined && f.today > eol.date) {
    out.push(
      warn(
        'kubernetes-eol',
        `Kubernetes 1.${v.minor} reached end of life ${eol.before ? 'before' : 'on'} ${eol.date} (kubernetes.io/releases): it gets no security fixes`,
        `fine for following an old course; for a current cluster use kubernetes.version "${DEFAULT_VERSIONS.kubernetes}"`,
      ),
    );
  } else if (eol !== undefined) {
    out.push(pass('kubernetes-eol', `Kubernetes 1.${v.minor} is supported until ${eol.date}`));
  }
  return out;
}
