// Image references as containerd stores them: "nginx" is docker.io/library/nginx:latest. Comparing the
// normalized forms tells whether an image the cluster asks for is in the bundle.

export function normalizeImageRef(ref: string): string {
  let name = ref.trim();
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    suffix = name.slice(colon) + suffix;
    name = name.slice(0, colon);
  } else if (suffix === '') {
    suffix = ':latest';
  }
  const first = name.split('/')[0]!;
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}

/** "k8s.gcr.io/coredns/coredns:v1.8.0" -> "coredns" (the last path element, no tag). */
export function imageBaseName(ref: string): string {
  const n = normalizeImageRef(ref);
  const noTag = n.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  return noTag.slice(noTag.lastIndexOf('/') + 1);
}

export function imageTag(ref: string): string | undefined {
  const m = /:([^:/@]+)(@|$)/.exec(normalizeImageRef(ref));
  return m?.[1];
}
