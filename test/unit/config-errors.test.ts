// Bad lab.yaml input: every case must name the field path, show the bad value and say what is allowed.
import { describe, expect, it } from 'vitest';
import { type BadCase, expectRefused, problemsOf } from '../config-helpers.js';

const BAD: BadCase[] = [
  // counts and resources
  { name: 'worker count 10', yaml: 'workers:\n  count: 10', path: 'workers.count', found: '10', allowed: /at most 9 workers/ },
  { name: 'worker count -1', yaml: 'workers:\n  count: -1', path: 'workers.count', found: '-1', allowed: /at least 0 workers/ },
  { name: 'worker count 2.5', yaml: 'workers:\n  count: 2.5', path: 'workers.count', found: '2.5', allowed: /whole number of workers from 0 to 9/ },
  { name: 'worker count as a word', yaml: 'workers:\n  count: three', path: 'workers.count', found: '"three"', allowed: /whole number of workers from 0 to 9/ },
  { name: 'control-plane memory below 2048', yaml: 'controlPlane:\n  memory: 2047', path: 'controlPlane.memory', found: '2047', allowed: /at least 2048 MiB/ },
  { name: 'worker memory below 1024', yaml: 'workers:\n  memory: 1000', path: 'workers.memory', found: '1000', allowed: /at least 1024 MiB/ },
  { name: 'control-plane 1 CPU', yaml: 'controlPlane:\n  cpus: 1', path: 'controlPlane.cpus', found: '1', allowed: /at least 2 CPUs \(kubeadm needs 2\)/ },
  { name: 'worker 0 CPUs', yaml: 'workers:\n  cpus: 0', path: 'workers.cpus', found: '0', allowed: /at least 1 CPUs/ },
  // ports
  { name: 'privileged SSH port', yaml: 'controlPlane:\n  sshPort: 80', path: 'controlPlane.sshPort', found: '80', allowed: /at least 1024 port/ },
  { name: 'SSH port above 65535', yaml: 'controlPlane:\n  sshPort: 70000', path: 'controlPlane.sshPort', found: '70000', allowed: /at most 65535 port/ },
  { name: 'worker port base too high', yaml: 'workers:\n  sshPortBase: 65530', path: 'workers.sshPortBase', found: '65530', allowed: /at most 65526 port/ },
  { name: 'control-plane port among the workers', yaml: 'controlPlane:\n  sshPort: 60102', path: 'controlPlane.sshPort', found: '60102', allowed: /collides with the workers' ports 60101-60103/ },
  // CIDRs
  { name: 'prefix 33', yaml: 'network:\n  private: 192.168.56.0/33', path: 'network.private', found: '"192.168.56.0/33"', allowed: /IPv4 CIDR such as 192.168.56.0\/24/ },
  { name: 'address without prefix', yaml: 'network:\n  private: 192.168.56.0', path: 'network.private', found: '"192.168.56.0"', allowed: /IPv4 CIDR such as 192.168.56.0\/24/ },
  { name: 'three-part address', yaml: 'network:\n  private: 192.168.56/24', path: 'network.private', found: '"192.168.56/24"', allowed: /IPv4 CIDR such as/ },
  { name: 'octet above 255', yaml: 'network:\n  podCidr: 300.16.0.0/16', path: 'network.podCidr', found: '"300.16.0.0/16"', allowed: /IPv4 CIDR such as 172.16.0.0\/16/ },
  { name: 'host bits set', yaml: 'network:\n  serviceCidr: 10.96.0.1/12', path: 'network.serviceCidr', found: '"10.96.0.1/12"', allowed: /network address: use 10.96.0.0\/12/ },
  { name: 'private network too small', yaml: 'network:\n  private: 192.168.56.0/29', path: 'network.private', found: '"192.168.56.0/29"', allowed: /\/28 or larger/ },
  { name: 'pod CIDR overlapping the private network', yaml: 'network:\n  podCidr: 192.168.0.0/16', path: 'network.podCidr', found: '"192.168.0.0/16"', allowed: /overlaps network.private \(192.168.56.0\/24\); the three networks must be disjoint/ },
  { name: 'service CIDR overlapping the pod CIDR', yaml: 'network:\n  serviceCidr: 172.16.0.0/12', path: 'network.serviceCidr', found: '"172.16.0.0/12"', allowed: /overlaps network.podCidr \(172.16.0.0\/16\)/ },
  { name: 'service CIDR overlapping the private network', yaml: 'network:\n  private: 10.100.0.0/24', path: 'network.serviceCidr', found: '"10.96.0.0/12"', allowed: /overlaps network.private \(10.100.0.0\/24\)/ },
  { name: 'pod CIDR too small for the nodes', yaml: 'workers:\n  count: 9\nnetwork:\n  podCidr: 172.16.0.0/22', path: 'network.podCidr', found: '"172.16.0.0/22"', allowed: /10 nodes gets a \/24.*use \/20 or larger/ },
  { name: 'service CIDR larger than /12', yaml: 'network:\n  serviceCidr: 10.0.0.0/8', path: 'network.serviceCidr', found: '"10.0.0.0/8"', allowed: /prefix from \/12 to \/24/ },
  // node addresses
  { name: 'control-plane IP outside the network', yaml: 'network:\n  controlPlaneIp: 10.0.0.10', path: 'network.controlPlaneIp', found: '"10.0.0.10"', allowed: /not a usable host address in network.private 192.168.56.0\/24/ },
  { name: 'control-plane IP equal to a worker', yaml: 'network:\n  controlPlaneIp: 192.168.56.102', path: 'network.firstWorkerIp', found: '"192.168.56.102"', allowed: /w2-k8s would get 192.168.56.102, already used by m-k8s/ },
  { name: 'control-plane IP is the host address .1', yaml: 'network:\n  controlPlaneIp: 192.168.56.1', path: 'network.controlPlaneIp', found: '"192.168.56.1"', allowed: /host's own address/ },
  { name: 'control-plane IP not an address', yaml: 'network:\n  controlPlaneIp: m-k8s', path: 'network.controlPlaneIp', found: '"m-k8s"', allowed: /IPv4 address such as 192.168.56.10/ },
  { name: 'workers running past the broadcast address', yaml: 'network:\n  firstWorkerIp: 192.168.56.253', path: 'network.firstWorkerIp', found: '"192.168.56.255"', allowed: /w3-k8s would get 192.168.56.255, which is not a usable host address/ },
  // Kubernetes, package source, Calico
  { name: 'k8s 1.23 from pkgs.k8s.io', yaml: 'kubernetes:\n  version: "1.23"', path: 'kubernetes.version', found: '"1.23"', allowed: /pkgs.k8s.io serves Kubernetes 1.24 and later.*kubernetes.source: bundle/ },
  { name: 'minor-only version with a bundle', yaml: 'kubernetes:\n  version: "1.20"\n  source: bundle\n  bundle: ./bundle\n  cni: bridge', path: 'kubernetes.version', found: '"1.20"', allowed: /full version such as 1.20.2 with a bundle/ },
  { name: 'bundle source without a path', yaml: 'kubernetes:\n  version: "1.34.2"\n  source: bundle', path: 'kubernetes.bundle', allowed: /required with kubernetes.source: bundle/ },
  { name: 'bundle path with pkgs.k8s.io', yaml: 'kubernetes:\n  bundle: ./bundle', path: 'kubernetes.bundle', found: '"./bundle"', allowed: /only used with kubernetes.source: bundle/ },
  { name: 'version "latest"', yaml: 'kubernetes:\n  version: latest', path: 'kubernetes.version', found: '"latest"', allowed: /Kubernetes version such as "1.37"/ },
  { name: 'unquoted version (a YAML number)', yaml: 'kubernetes:\n  version: 1.34', path: 'kubernetes.version', found: '1.34', allowed: /quote it in YAML/ },
  { name: 'unknown package source', yaml: 'kubernetes:\n  source: apt.kubernetes.io', path: 'kubernetes.source', found: '"apt.kubernetes.io"', allowed: /one of: pkgs.k8s.io, bundle/ },
  { name: 'unknown CNI', yaml: 'kubernetes:\n  cni: flannel', path: 'kubernetes.cni', found: '"flannel"', allowed: /one of: calico, bridge/ },
  { name: 'Calico too old for the k8s minor (with the fix)', yaml: 'calico:\n  version: 3.26.4', path: 'calico.version', found: '"3.26.4"', allowed: /Calico 3.26 supports Kubernetes 1.24-1.28, not 1.37; use calico.version 3.33.x/ },
  { name: 'Calico too new for an older k8s minor (names both fits)', yaml: 'kubernetes:\n  version: "1.34"', path: 'calico.version', found: '"3.33.1"', allowed: /Calico 3.33 supports Kubernetes 1.35-1.37, not 1.34; use calico.version 3.31.x or 3.32.x/ },
  { name: 'Calico 3.30 does not cover 1.30 (its row starts at 1.31)', yaml: 'kubernetes:\n  version: "1.30"\ncalico:\n  version: 3.30.3', path: 'calico.version', found: '"3.30.3"', allowed: /Calico 3.30 supports Kubernetes 1.31-1.33, not 1.30; use calico.version 3.28.x or 3.29.x/ },
  { name: 'Calico 3.31 does not cover 1.31 (its row starts at 1.32)', yaml: 'kubernetes:\n  version: "1.31"\ncalico:\n  version: 3.31.4', path: 'calico.version', found: '"3.31.4"', allowed: /Calico 3.31 supports Kubernetes 1.32-1.35, not 1.31; use calico.version 3.29.x or 3.30.x/ },
  { name: 'containerd 2.x with Kubernetes 1.29', yaml: 'kubernetes:\n  version: "1.29"\ncalico:\n  version: 3.29.6', path: 'containerd.version', found: '"2.3.7"', allowed: /containerd 2.3.7 supports Kubernetes 1.30 and newer .*not 1.29; use kubernetes.version "1.30" or newer, or a containerd 1.7 release/ },
  { name: 'Calico release k8slab does not know', yaml: 'calico:\n  version: 3.25.0', path: 'calico.version', found: '"3.25.0"', allowed: /not a Calico release k8slab knows; use one of 3.26.x/ },
  { name: 'Calico minor only', yaml: 'calico:\n  version: "3.31"', path: 'calico.version', found: '"3.31"', allowed: /full version such as 3.33.1/ },
  { name: 'containerd minor only', yaml: 'containerd:\n  version: "2.1"', path: 'containerd.version', found: '"2.1"', allowed: /full version such as 2.3.7/ },
  { name: 'runc minor only', yaml: 'containerd:\n  runcVersion: "1.4"', path: 'containerd.runcVersion', found: '"1.4"', allowed: /full version such as 1.4.4/ },
  { name: 'box version that is not a version', yaml: 'box:\n  version: latest', path: 'box.version', found: '"latest"', allowed: /box version such as "202404.26.0" or a Vagrant constraint/ },
  // MetalLB
  { name: 'default MetalLB range covering a node', yaml: 'network:\n  firstWorkerIp: 192.168.56.205', path: 'addons.metallb.range', found: '"192.168.56.200-192.168.56.220"', allowed: /the default range \(.200-.220 of network.private\) includes 192.168.56.205, the address of w1-k8s; pick addresses no node uses; set addons.metallb.range to free addresses of network.private, or addons.metallb.enabled: false/ },
  { name: 'default MetalLB range outside a small network', yaml: 'network:\n  private: 192.168.56.0/25\n  firstWorkerIp: 192.168.56.20', path: 'addons.metallb.range', found: '"192.168.56.200-192.168.56.220"', allowed: /the default range \(.200-.220 of network.private\) does not fit in network.private 192.168.56.0\/25; set addons.metallb.range/ },
  { name: 'MetalLB range outside the network', yaml: 'addons:\n  metallb:\n    enabled: true\n    range: 10.0.0.1-10.0.0.5', path: 'addons.metallb.range', found: '"10.0.0.1-10.0.0.5"', allowed: /inside network.private 192.168.56.0\/24/ },
  { name: 'MetalLB range covering a node', yaml: 'addons:\n  metallb:\n    enabled: true\n    range: 192.168.56.100-192.168.56.110', path: 'addons.metallb.range', found: '"192.168.56.100-192.168.56.110"', allowed: /includes 192.168.56.101, the address of w1-k8s/ },
  // the ingress controller
  { name: 'ingress controller that k8slab does not install', yaml: 'addons:\n  ingress:\n    controller: nginx', path: 'addons.ingress.controller', found: '"nginx"', allowed: /one of: traefik/ },
  { name: 'Traefik of another major', yaml: 'addons:\n  ingress:\n    version: 2.11.30', path: 'addons.ingress.version', found: '"2.11.30"', allowed: /Traefik 3.x version such as 3.7.13: k8slab renders that major's manifest/ },
  { name: 'Traefik version without a patch', yaml: 'addons:\n  ingress:\n    version: "3.7"', path: 'addons.ingress.version', found: '"3.7"', allowed: /full version such as 3.7.13/ },
  { name: 'ingress on a Kubernetes without EndpointSlices v1', yaml: 'kubernetes:\n  version: "1.20.2"\n  source: bundle\n  bundle: ./b\n  cni: bridge', path: 'addons.ingress.enabled', found: 'true', allowed: /traefik 3.7.13 needs Kubernetes 1.21 or newer .*not 1.20; set addons.ingress.enabled: false, or a newer kubernetes.version/ },
  { name: "MetalLB range covering the host's .1", yaml: 'addons:\n  metallb:\n    enabled: true\n    range: 192.168.56.1-192.168.56.9', path: 'addons.metallb.range', found: '"192.168.56.1-192.168.56.9"', allowed: /includes 192.168.56.1, the host's own address/ },
  { name: 'MetalLB range reversed', yaml: 'addons:\n  metallb:\n    range: 192.168.56.220-192.168.56.200', path: 'addons.metallb.range', found: '"192.168.56.220-192.168.56.200"', allowed: /first <= last/ },
  { name: 'MetalLB enabled as "yes"', yaml: 'addons:\n  metallb:\n    enabled: "yes"', path: 'addons.metallb.enabled', found: '"yes"', allowed: /true or false/ },
  { name: 'unknown storage provider', yaml: 'addons:\n  storage:\n    provider: ceph', path: 'addons.storage.provider', found: '"ceph"', allowed: /one of: none, local-path, nfs/ },
  // unknown keys at several depths, with a did-you-mean
  { name: 'top-level typo', yaml: 'wokers:\n  count: 2', path: 'wokers', allowed: /did you mean "workers"\?.*allowed here: name, provider/ },
  { name: 'lower-case section name', yaml: 'controlplane:\n  cpus: 2', path: 'controlplane', allowed: /did you mean "controlPlane"\?/ },
  { name: 'second-level typo', yaml: 'controlPlane:\n  cpu: 4', path: 'controlPlane.cpu', allowed: /did you mean "cpus"\? allowed here: name, cpus, memory, sshPort/ },
  { name: 'second-level case typo', yaml: 'network:\n  podCIDR: 172.16.0.0/16', path: 'network.podCIDR', allowed: /did you mean "podCidr"\?/ },
  { name: 'third-level typo', yaml: 'addons:\n  metallb:\n    enable: true', path: 'addons.metallb.enable', allowed: /did you mean "enabled"\? allowed here: enabled, version, range/ },
  { name: 'unknown image key', yaml: 'images:\n  ngnix: mirror.local/nginx', path: 'images.ngnix', allowed: /did you mean "nginx"\? allowed: app, init/ },
  // the mysql lesson's flavor and its images
  { name: 'unknown mysql flavor', yaml: 'lessons:\n  mysql:\n    flavor: postgres', path: 'lessons.mysql.flavor', found: '"postgres"', allowed: /must be mariadb \(images\.mariadb: multi-arch, maintained\) or mysql \(the course's mysql:5\.7/ },
  { name: 'mysql flavor typo', yaml: 'lessons:\n  mysql:\n    flavour: mysql', path: 'lessons.mysql.flavour', allowed: /did you mean "flavor"\?/ },
  { name: "images.mysql with the default mariadb flavor", yaml: 'images:\n  mysql: mirror.local/mysql:5.7', path: 'images.mysql', found: '"mirror.local/mysql:5.7"', allowed: /used only by lessons\.mysql\.flavor: mysql, and this lab's flavor is mariadb; set lessons\.mysql\.flavor: mysql, or remove images\.mysql \(the mariadb flavor uses images\.mariadb\)/ },
  { name: 'images.mariadb with the mysql flavor', yaml: 'lessons:\n  mysql:\n    flavor: mysql\nimages:\n  mariadb: mirror.local/mariadb:10.11', path: 'images.mariadb', found: '"mirror.local/mariadb:10.11"', allowed: /used only by lessons\.mysql\.flavor: mariadb.*images\.mysql and images\.xtrabackup/ },
  // wrong types and shapes
  { name: 'section given as a number', yaml: 'workers: 3', path: 'workers', found: '3', allowed: /mapping of settings: count, cpus, memory, sshPortBase/ },
  { name: 'section left empty', yaml: 'controlPlane:\n', path: 'controlPlane', found: 'null', allowed: /mapping of settings: name, cpus, memory, sshPort/ },
  { name: 'images as a list', yaml: 'images:\n  - nginx', path: 'images', found: 'a list', allowed: /mapping of settings of names to values/ },
  { name: 'image reference as a number', yaml: 'images:\n  nginx: 5', path: 'images.nginx', found: '5', allowed: /image reference such as nginx:1.27/ },
  { name: 'unknown provider', yaml: 'provider: vmware', path: 'provider', found: '"vmware"', allowed: /one of: virtualbox, libvirt/ },
  { name: 'unknown libvirt driver', yaml: 'libvirt:\n  driver: xen', path: 'libvirt.driver', found: '"xen"', allowed: /one of: kvm, qemu/ },
  { name: 'bad hostname', yaml: 'controlPlane:\n  name: M_K8S', path: 'controlPlane.name', found: '"M_K8S"', allowed: /lowercase hostname/ },
  { name: 'control-plane name taken by a worker', yaml: 'controlPlane:\n  name: w1-k8s', path: 'controlPlane.name', found: '"w1-k8s"', allowed: /collides with a worker name/ },
  { name: 'lab name with a space', yaml: 'name: my lab', path: 'name', found: '"my lab"', allowed: /start with a letter and hold at most 31 lowercase letters/ },
  { name: 'box name with a space', yaml: 'box:\n  virtualbox: bento/ubuntu 24.04', path: 'box.virtualbox', found: '"bento/ubuntu 24.04"', allowed: /Vagrant box name such as bento\/ubuntu-24.04/ },
  { name: 'VirtualBox group without a slash', yaml: 'virtualbox:\n  group: k8slab', path: 'virtualbox.group', found: '"k8slab"', allowed: /starts with "\/"/ },
  // the document itself
  { name: 'invalid YAML', yaml: 'workers: [1', path: '', allowed: /not valid YAML: .*line 1/ },
  { name: 'a YAML list instead of a mapping', yaml: '- workers\n- network', path: '', allowed: /must be a YAML mapping of settings/ },
  { name: 'a bare scalar', yaml: 'hello', path: '', allowed: /must be a YAML mapping of settings/ },
  { name: 'duplicate keys', yaml: 'workers:\n  count: 1\nworkers:\n  count: 2', path: '', allowed: /keys must be unique at line 3.*the key "workers" appears twice/ },
];

describe('lab.yaml: bad input', () => {
  it('has at least 30 distinct cases', () => {
    expect(new Set(BAD.map((c) => c.yaml)).size).toBe(BAD.length);
    expect(BAD.length).toBeGreaterThanOrEqual(30);
  });

  it.each(BAD)('$name', (c) => expectRefused(c));

  it('reports every problem at once, not just the first', () => {
    const err = problemsOf('workers:\n  count: 10\ncontrolPlane:\n  memory: 512\nwokers: {}');
    expect(err.problems.map((p) => p.path).sort()).toEqual(['controlPlane.memory', 'wokers', 'workers.count']);
  });
});
