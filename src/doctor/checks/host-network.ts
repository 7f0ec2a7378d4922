// The lab's private network must be new to the host: an address or a route already there would
// send the VMs' traffic elsewhere. The lab's own host-only network, left from an earlier `up`, is fine.
import type { LabConfig } from '../../config/schema.js';
import { overlaps, parseCidr, type Cidr } from '../../config/net.js';
import type { HostFacts } from '../facts.js';
import { type CheckResult, fail, pass, warn } from '../types.js';

const NAME = 'private-network';

/** Names the lab's libvirt network may carry: lab.yaml's name, or vagrant-libvirt's own "<folder><n>". */
export function ownLibvirtNetworkNames(config: LabConfig, labDirName: string): (name: string) => boolean {
  const generated = new RegExp(`^${labDirName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d+$`);
  return (name) => name === config.name || generated.test(name);
}

export function checkHostNetwork(config: LabConfig, f: HostFacts, isOwnLibvirtNetwork: (name: string) => boolean): CheckResult[] {
  const priv = parseCidr(config.network.private)!;
  const sameNet = (c: Cidr) => c.base === priv.base && c.prefix === priv.prefix;
  const libvirtByBridge = new Map((f.libvirt?.networks ?? []).filter((n) => n.bridge).map((n) => [n.bridge!, n.name]));

  /** An interface that is this lab's host-only network (same subnet): vagrant reuses it. */
  const reusable = (ifname: string, c: Cidr): string | undefined => {
    if (!sameNet(c)) return undefined;
    if (config.provider === 'virtualbox' && /^vboxnet\d+$/.test(ifname)) return `VirtualBox host-only ${ifname}`;
    const lv = libvirtByBridge.get(ifname);
    if (config.provider === 'libvirt' && lv !== undefined && isOwnLibvirtNetwork(lv)) return `this lab's libvirt network ${lv} (${ifname})`;
    return undefined;
  };

  const out: CheckResult[] = [];
  for (const a of f.addresses) {
    const c = parseCidr(`${a.address}/${a.prefixlen}`);
    if (!c || a.ifname === 'lo' || !overlaps(c, priv)) continue;
    const own = reusable(a.ifname, c);
    if (own) {
      out.push(pass(NAME, `${config.network.private} is already ${own}; vagrant will reuse it`));
      continue;
    }
    const lv = libvirtByBridge.get(a.ifname);
    out.push(
      fail(
        NAME,
        `network.private ${config.network.private} clashes with ${a.ifname} (${a.address}/${a.prefixlen}${lv ? `, libvirt network ${lv}` : ''})`,
        `pick another network.private in lab.yaml${lv ? `, or remove that network if it is a stale lab (\`virsh net-destroy ${lv}; virsh net-undefine ${lv}\`)` : ''}`,
      ),
    );
  }
  for (const r of f.routes) {
    // A route on an interface already judged above (the connected route of its address) says nothing new.
    if (r.dst === 'default' || (r.dev !== undefined && f.addresses.some((a) => a.ifname === r.dev && overlapsAddr(a, priv)))) continue;
    const c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (!c || !overlaps(c, priv)) continue;
    const via = r.dev ? ` via ${r.dev}` : '';
    out.push(
      c.prefix >= priv.prefix
        ? fail(NAME, `the host routes ${r.dst}${via}, inside network.private ${config.network.private}`, 'pick another network.private in lab.yaml (one no VPN or LAN route covers)')
        : warn(NAME, `the host routes ${r.dst}${via}, which covers network.private ${config.network.private}`, 'the lab\'s own route is more specific and wins; if you reach hosts in that range, pick another network.private'),
    );
  }
  if (out.length === 0) {
    const src = f.addressSource === 'ip' ? '`ip` addresses and routes' : 'interface addresses (no `ip` command: routes not checked)';
    out.push(pass(NAME, `${config.network.private} is free on this host (${src})`));
  }
  return out;
}

function overlapsAddr(a: { address: string; prefixlen: number }, priv: Cidr): boolean {
  const c = parseCidr(`${a.address}/${a.prefixlen}`);
  return c !== undefined && overlaps(c, priv);
}
