// VirtualBox 6.1.28+ on Linux/macOS assigns host-only addresses only from the ranges in
// /etc/vbox/networks.conf (default, when the file is missing: 192.168.56.0/21).
import type { LabConfig } from '../../config/schema.js';
import { parseCidr, size, type Cidr } from '../../config/net.js';
import type { HostFacts } from '../facts.js';
import { type CheckResult, fail, pass, warn } from '../types.js';
import { atLeast } from '../version.js';

export const VBOX_RESTRICTS_FROM = '6.1.28';
export const VBOX_DEFAULT_RANGES = ['192.168.56.0/21'] as const;
/** The course's network: VirtualBox refuses it by default, and home routers often use it. */
export const COURSE_NETWORK = '192.168.1.0/24';

/** The IPv4 ranges of `* 10.0.0.0/8 192.168.0.0/16` lines; IPv6 and comments are skipped. */
export function parseNetworksConf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('*'))
    .flatMap((l) => l.slice(1).trim().split(/\s+/))
    .filter((r) => parseCidr(r) !== undefined);
}

const within = (inner: Cidr, outer: Cidr): boolean =>
  inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);

export function checkVboxNetworks(config: LabConfig, f: HostFacts): CheckResult[] {
  const vb = f.virtualbox;
  if (!vb?.version) return [];
  const name = 'vbox-host-only-range';
  const priv = config.network.private;
  const out: CheckResult[] = [];
  if (f.platform !== 'linux' && f.platform !== 'darwin') {
    out.push(pass(name, `VirtualBox on ${f.platform} does not restrict host-only ranges`));
  } else if (!atLeast(vb.version, VBOX_RESTRICTS_FROM)) {
    out.push(pass(name, `VirtualBox ${vb.version} predates the host-only range restriction (${VBOX_RESTRICTS_FROM})`));
  } else {
    const conf = f.vboxNetworksConf;
    const fromFile = conf?.text !== undefined;
    const ranges = fromFile ? parseNetworksConf(conf!.text!) : [...VBOX_DEFAULT_RANGES];
    const source = fromFile ? `${conf!.path} allows ${ranges.join(' ') || 'nothing'}` : `no ${conf?.path ?? 'networks.conf'}: VirtualBox allows only ${ranges.join(' ')}`;
    const net = parseCidr(priv)!;
    if (ranges.some((r) => within(net, parseCidr(r)!))) {
      out.push(pass(name, `network.private ${priv} is allowed (${source})`));
    } else {
      out.push(
        fail(
          name,
          `VirtualBox ${vb.version} will refuse network.private ${priv} (${source})`,
          `use network.private: 192.168.56.0/24 in lab.yaml, or add the line \`* ${priv}\` to ${conf?.path ?? '/etc/vbox/networks.conf'} (as root)`,
        ),
      );
    }
  }
  return out;
}

/** The course's 192.168.1.0/24 is accepted, with a warning whatever the provider. */
export function checkCourseNetwork(config: LabConfig): CheckResult[] {
  if (config.network.private !== COURSE_NETWORK) return [];
  return [
    warn(
      'course-network',
      `network.private is the course's ${COURSE_NETWORK}: VirtualBox 6.1.28+ refuses it unless /etc/vbox/networks.conf lists it, and home routers often use it`,
      'prefer the default network.private: 192.168.56.0/24',
    ),
  ];
}
