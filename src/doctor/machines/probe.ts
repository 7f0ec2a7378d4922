// What `doctor` learns about one machine: a single POSIX sh script run over SSH as the login user, whose
// `key=value` lines are parsed into MachineFacts. One round trip per machine; only reads, never changes.
//
// Keys that may repeat (addr, mac, listen) give one line each. A missing tool leaves its key out, and the
// judge says what it could not see rather than guessing.

/** Runs with `sh -s` (dash on Debian/Ubuntu, bash on EL). Reads as root only where the file needs it. */
export const PROBE_SCRIPT = `
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "user=$(id -un)"
echo "uid=$(id -u)"
if [ "$(id -u)" = 0 ]; then SUDO=; echo "sudo=root"
elif ! command -v sudo >/dev/null 2>&1; then SUDO=false; echo "sudo=missing"
elif sudo -n true >/dev/null 2>&1; then SUDO="sudo -n"; echo "sudo=ok"
else SUDO=false; echo "sudo=password"
fi
if [ -r /etc/os-release ]; then
  # shellcheck source=/dev/null
  . /etc/os-release
  echo "os_id=\${ID:-}"
  echo "os_like=\${ID_LIKE:-}"
  echo "os_version=\${VERSION_ID:-}"
  echo "os_pretty=\${PRETTY_NAME:-}"
fi
echo "arch=$(uname -m)"
echo "kernel=$(uname -r)"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
awk '/^MemTotal:/ { print "mem_kib=" $2 } /^SwapTotal:/ { print "swap_kib=" $2 }' /proc/meminfo
d=/var/lib; [ -d /var/lib/containerd ] && d=/var/lib/containerd
df -Pk "$d" 2>/dev/null | awk 'NR == 2 { print "disk_path='"$d"'"; print "disk_free_kib=" $4 }'
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
u=$($SUDO cat /sys/class/dmi/id/product_uuid 2>/dev/null) && echo "product_uuid=$u"
for n in /sys/class/net/*; do
  [ "\${n##*/}" = lo ] && continue
  [ -r "$n/address" ] && echo "mac=\${n##*/} $(cat "$n/address")"
done
if command -v ip >/dev/null 2>&1; then
  echo "ip=yes"
  # "inet A/P", or "inet A peer B/P" on a point-to-point link: the word after "inet" is the address
  ip -o -4 addr show 2>/dev/null | awk '{ for (i = 3; i < NF; i++) if ($i == "inet") print "addr=" $2 " " $(i + 1) }'
fi
if command -v ss >/dev/null 2>&1; then
  echo "ss=yes"
  ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print "listen=" a[n] }' | sort -u
fi
v=$(systemd-detect-virt -c 2>/dev/null) && echo "container=$v"
echo "cgroup_fs=$(stat -fc %T /sys/fs/cgroup/ 2>/dev/null)"
# the resolv.conf kubelet hands to pods with dnsPolicy Default, CoreDNS among them (kubeadm picks
# systemd-resolved's upstream file when that service runs)
r=/etc/resolv.conf
systemctl is-active -q systemd-resolved 2>/dev/null && [ -r /run/systemd/resolve/resolv.conf ] && r=/run/systemd/resolve/resolv.conf
[ -r "$r" ] && echo "resolv=$r $(grep -c '^[[:space:]]*nameserver[[:space:]]' "$r")"
grep -q '^# BEGIN k8slab nodes' /etc/hosts 2>/dev/null && echo "k8slab=yes"
echo "now=$(date +%s)"
`;

export type SudoState = 'root' | 'ok' | 'password' | 'missing';

export interface MachineFacts {
  user: string;
  uid: number;
  sudo: SudoState;
  os: { id: string; like: string; version: string; pretty: string } | undefined;
  arch: string;
  kernel: string;
  cpus: number | undefined;
  memMiB: number | undefined;
  swapMiB: number | undefined;
  disk: { path: string; freeMiB: number } | undefined;
  hostname: string;
  productUuid: string | undefined;
  /** interface -> MAC, loopback left out */
  macs: { ifname: string; mac: string }[];
  /** IPv4 addresses with their interface; undefined when `ip` is missing */
  addresses: { ifname: string; address: string; prefixlen: number }[] | undefined;
  /** TCP ports something listens on; undefined when `ss` is missing */
  listening: number[] | undefined;
  /** systemd-detect-virt -c: "systemd-nspawn", "lxc"...; undefined on a VM or bare metal */
  container: string | undefined;
  /** the resolv.conf pods inherit and how many nameserver lines it has; undefined when unreadable */
  resolver: { file: string; nameservers: number } | undefined;
  /** file system type at /sys/fs/cgroup: cgroup2fs on a cgroup v2 machine, tmpfs on v1 or hybrid */
  cgroupFs: string | undefined;
  /** config.sh ran here before (its /etc/hosts block): ports in use may be this lab's own */
  provisionedByK8slab: boolean;
  /** the machine's clock, in whole seconds since the epoch */
  nowSec: number | undefined;
}

const num = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

export function parseProbe(stdout: string): MachineFacts {
  const one = new Map<string, string>();
  const many = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (!one.has(key)) one.set(key, value);
    many.set(key, [...(many.get(key) ?? []), value]);
  }
  const sudo = one.get('sudo');
  const memKib = num(one.get('mem_kib'));
  const swapKib = num(one.get('swap_kib'));
  const diskKib = num(one.get('disk_free_kib'));
  return {
    user: one.get('user') ?? '',
    uid: num(one.get('uid')) ?? -1,
    sudo: sudo === 'root' || sudo === 'ok' || sudo === 'password' ? sudo : 'missing',
    os: one.has('os_id')
      ? { id: one.get('os_id')!, like: one.get('os_like') ?? '', version: one.get('os_version') ?? '', pretty: one.get('os_pretty') ?? '' }
      : undefined,
    arch: one.get('arch') ?? '',
    kernel: one.get('kernel') ?? '',
    cpus: num(one.get('cpus')),
    memMiB: memKib === undefined ? undefined : Math.floor(memKib / 1024),
    swapMiB: swapKib === undefined ? undefined : Math.floor(swapKib / 1024),
    disk: diskKib === undefined ? undefined : { path: one.get('disk_path') ?? '/var/lib', freeMiB: Math.floor(diskKib / 1024) },
    hostname: one.get('hostname') ?? '',
    productUuid: one.get('product_uuid')?.toLowerCase() || undefined,
    cgroupFs: one.get('cgroup_fs') || undefined,
    resolver: parseResolver(one.get('resolv')),
    macs: (many.get('mac') ?? []).flatMap((v) => {
      const [ifname, mac] = v.split(' ');
      return ifname && mac ? [{ ifname, mac: mac.toLowerCase() }] : [];
    }),
    addresses: one.has('ip')
      ? (many.get('addr') ?? []).flatMap((v) => {
          const m = /^(\S+) (\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(v);
          return m ? [{ ifname: m[1]!, address: m[2]!, prefixlen: m[3] === undefined ? 32 : Number(m[3]) }] : [];
        })
      : undefined,
    listening: one.has('ss') ? [...new Set((many.get('listen') ?? []).flatMap((p) => num(p) ?? []))] : undefined,
    container: one.get('container') || undefined,
    provisionedByK8slab: one.get('k8slab') === 'yes',
    nowSec: num(one.get('now')),
  };
}

function parseResolver(v: string | undefined): MachineFacts['resolver'] {
  const m = v === undefined ? null : /^(\S+) (\d+)$/.exec(v);
  return m ? { file: m[1]!, nameservers: Number(m[2]) } : undefined;
}
