#!/usr/bin/env node
// The internet a default lab expects, on one address of this host (issue 12, "Serve").
//
//   node serve.mjs --address IP [--site DIR] [--images DIR] [--pki DIR] [--cache DIR]
//                  [--https-port 443] [--http-port 80] [--debian-mirror http://deb.debian.org]
//
// HTTPS (the certificate ca.sh made, naming every host below), chosen by the Host header:
//   pkgs.k8s.io, github.com, raw.githubusercontent.com   files under SITE/HOST/URL-PATH (pkgs.sh, github.sh)
//   registry.k8s.io, registry-1.docker.io (docker.io), quay.io, gcr.io, ghcr.io
//                       the OCI distribution API, read only, for the images in IMAGES/*.tar (OCI image layouts
//                       whose index.json names each image in io.containerd.image.name, as bench/stack writes)
// HTTP: deb.debian.org and security.debian.org, forwarded to Debian's mirror only (/debian/, /debian-security/);
//   .deb files are kept in CACHE, so a second node's install does not leave the host.
//
// Why a server of our own rather than distribution's registry: one process serves all five registry names
// (distribution serves one namespace per instance, so five instances and a push of every image into each),
// straight from the image tarballs, read only by construction; and the same process serves the files.
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const cacheRoot = process.env.K8SLAB_SERVE_CACHE ?? '/var/cache/k8slab-serve';
const stackRoot = process.env.K8SLAB_STACK_CACHE ?? '/var/cache/k8slab-stack';
const { values: opt } = parseArgs({
  options: {
    address: { type: 'string' },
    site: { type: 'string', default: join(cacheRoot, 'site') },
    images: { type: 'string', default: join(stackRoot, 'images') },
    pki: { type: 'string', default: join(cacheRoot, 'pki') },
    cache: { type: 'string', default: cacheRoot },
    'https-port': { type: 'string', default: '443' },
    'http-port': { type: 'string', default: '80' },
    'debian-mirror': { type: 'string', default: 'http://deb.debian.org' },
  },
});

function fail(message) {
  process.stderr.write(`serve: error: ${message}\n`);
  process.exit(2);
}
if (opt.address === '0.0.0.0') fail("--address '0.0.0.0' would serve every network: give this host's address on the lab network (e.g. 10.214.0.1)");
if (!opt.address || !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(opt.address) || opt.address.split('.').some((o) => Number(o) > 255))
  fail(`--address '${opt.address ?? ''}' must be this host's IPv4 address on the lab network (e.g. 10.214.0.1)`);
for (const p of ['https-port', 'http-port']) {
  const n = Number(opt[p]);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`--${p} '${opt[p]}' must be a port number 1-65535`);
}
if (!/^http:\/\/[a-z0-9.-]+(:\d+)?$/.test(opt['debian-mirror'])) fail(`--debian-mirror '${opt['debian-mirror']}' must be http://HOST[:PORT]`);

const FILE_HOSTS = new Set(['pkgs.k8s.io', 'github.com', 'raw.githubusercontent.com']);
// A reference's registry → the host names a client asks for it by (docker.io's API lives on registry-1).
const REGISTRY_HOSTS = {
  'registry.k8s.io': ['registry.k8s.io'],
  'docker.io': ['registry-1.docker.io', 'docker.io'],
  'quay.io': ['quay.io'],
  'gcr.io': ['gcr.io'],
  'ghcr.io': ['ghcr.io'],
};
const DEBIAN_HOSTS = new Set(['deb.debian.org', 'security.debian.org']);
const DEBIAN_PATHS = ['/debian/', '/debian-security/'];

const log = (line) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

// ------------------------------------------------------------------ registry content

/** host → "repo:tag" or "repo@digest" → { digest, mediaType, size } */
const manifests = new Map();
/** "host/repo" → the digests of its images' configs and layers */
const repoBlobs = new Map();
const blobDir = join(opt.cache, 'registry', 'blobs', 'sha256');

function loadImages(dir) {
  if (!existsSync(dir)) {
    log(`registry: no image directory ${dir}: no images served`);
    return;
  }
  mkdirSync(blobDir, { recursive: true });
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tar')).sort()) {
    const tar = join(dir, f);
    let index;
    try {
      index = JSON.parse(execFileSync('tar', ['-xOf', tar, 'index.json'], { maxBuffer: 1 << 20 }).toString());
    } catch {
      log(`registry: ${f} is not an OCI image layout (no index.json): skipped`);
      continue;
    }
    // Blobs are content-addressed: one store for every image, each blob written once.
    execFileSync('tar', ['-xf', tar, '-C', join(opt.cache, 'registry'), '--skip-old-files', '--wildcards', 'blobs/sha256/*']);
    for (const m of index.manifests ?? []) {
      const ref = m.annotations?.['io.containerd.image.name'];
      const parsed = ref && /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+):([A-Za-z0-9._-]+)$/.exec(ref);
      if (!parsed || !REGISTRY_HOSTS[parsed[1]]) {
        log(`registry: ${f}: '${ref}' names no registry served here (${Object.keys(REGISTRY_HOSTS).join(', ')}): skipped`);
        continue;
      }
      let [, registry, repo, tag] = parsed;
      if (registry === 'docker.io' && !repo.includes('/')) repo = `library/${repo}`;
      const entry = { digest: m.digest, mediaType: m.mediaType, size: m.size };
      const manifest = JSON.parse(readFileSync(join(blobDir, m.digest.replace(/^sha256:/, ''))).toString());
      const blobs = [manifest.config, ...(manifest.layers ?? [])].map((b) => b.digest);
      for (const host of REGISTRY_HOSTS[registry]) {
        if (!manifests.has(host)) manifests.set(host, new Map());
        manifests.get(host).set(`${repo}:${tag}`, entry).set(`${repo}@${m.digest}`, entry);
        const key = `${host}/${repo}`;
        repoBlobs.set(key, new Set([...(repoBlobs.get(key) ?? []), ...blobs]));
      }
      log(`registry: ${ref} ${m.digest}`);
    }
  }
}

function registryError(res, status, code, message) {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'docker-distribution-api-version': 'registry/2.0' });
  res.end(body);
}

function sendBlob(req, res, digest, mediaType) {
  const hex = /^sha256:([a-f0-9]{64})$/.exec(digest)?.[1];
  const file = hex && join(blobDir, hex);
  if (!file || !existsSync(file)) return registryError(res, 404, 'BLOB_UNKNOWN', `blob ${digest} unknown`);
  res.writeHead(200, {
    'content-type': mediaType,
    'content-length': statSync(file).size,
    'docker-content-digest': digest,
    'docker-distribution-api-version': 'registry/2.0',
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).pipe(res);
}

function registry(req, res, host, path) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return registryError(res, 405, 'UNSUPPORTED', 'this registry is read only');
  if (path === '/v2/' || path === '/v2') {
    res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
    return res.end('{}');
  }
  const known = manifests.get(host) ?? new Map();
  let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) {
    const [, repo, ref] = m;
    const entry = known.get(ref.startsWith('sha256:') ? `${repo}@${ref}` : `${repo}:${ref}`);
    if (!entry) return registryError(res, 404, 'MANIFEST_UNKNOWN', `${host}/${repo}: manifest ${ref} unknown`);
    return sendBlob(req, res, entry.digest, entry.mediaType);
  }
  m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path);
  if (m) {
    // Only blobs of this repository's images: another repository's layers stay unknown, as upstream.
    const blobs = repoBlobs.get(`${host}/${m[1]}`);
    if (!blobs) return registryError(res, 404, 'NAME_UNKNOWN', `repository ${host}/${m[1]} unknown`);
    if (!blobs.has(m[2])) return registryError(res, 404, 'BLOB_UNKNOWN', `blob ${m[2]} unknown to ${host}/${m[1]}`);
    return sendBlob(req, res, m[2], 'application/octet-stream');
  }
  m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m) {
    const tags = [...known.keys()].filter((k) => k.startsWith(`${m[1]}:`)).map((k) => k.slice(m[1].length + 1));
    if (tags.length === 0) return registryError(res, 404, 'NAME_UNKNOWN', `repository ${host}/${m[1]} unknown`);
    const body = JSON.stringify({ name: m[1], tags: tags.sort() });
    res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
    return res.end(body);
  }
  return registryError(res, 404, 'UNSUPPORTED', `no such endpoint ${path}`);
}

// ------------------------------------------------------------------ files

function notFound(res, what) {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end(`404 ${what} is not served here\n`);
}

function file(req, res, host, path) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    return res.end();
  }
  const root = resolve(opt.site, host);
  const target = resolve(root, `.${path}`);
  if (!target.startsWith(`${root}/`) || !existsSync(target) || !statSync(target).isFile()) return notFound(res, `https://${host}${path}`);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(target).size });
  if (req.method === 'HEAD') return res.end();
  createReadStream(target).pipe(res);
}

// ------------------------------------------------------------------ Debian's mirror

function debian(req, res, path) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    return res.end();
  }
  if (!DEBIAN_PATHS.some((p) => path.startsWith(p)) || path.includes('/../')) return notFound(res, path);
  // Packages under pool/ never change once published: those are kept; the indexes always come fresh.
  const keep = /\/pool\/.+\.(u?deb)$/.test(path) ? join(opt.cache, 'debian', path) : undefined;
  if (keep && existsSync(keep)) {
    res.writeHead(200, { 'content-type': 'application/vnd.debian.binary-package', 'content-length': statSync(keep).size });
    if (req.method === 'HEAD') return res.end();
    return createReadStream(keep).pipe(res);
  }
  // apt's conditional requests pass through, so an unchanged index costs a 304, not a download.
  const headers = { 'user-agent': 'k8slab-serve' };
  for (const h of ['if-modified-since', 'if-none-match']) if (req.headers[h]) headers[h] = req.headers[h];
  const upstream = httpGet(`${opt['debian-mirror']}${path}`, { method: req.method, headers }, (up) => {
    const headers = {};
    for (const h of ['content-type', 'content-length', 'last-modified', 'etag', 'location']) if (up.headers[h]) headers[h] = up.headers[h];
    res.writeHead(up.statusCode ?? 502, headers);
    if (keep && up.statusCode === 200 && req.method === 'GET') {
      mkdirSync(dirname(keep), { recursive: true });
      const part = `${keep}.${process.pid}.part`;
      const out = createWriteStream(part);
      up.pipe(out);
      out.on('finish', () => {
        if (up.complete) renameSync(part, keep);
        else rmSync(part, { force: true });
      });
    }
    up.pipe(res);
  });
  upstream.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`502 Debian's mirror did not answer: ${e.message}\n`);
  });
  upstream.end();
}

// ------------------------------------------------------------------ servers

function hostOf(req) {
  return (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
}

function handleHttps(req, res) {
  const host = hostOf(req);
  const path = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
  res.on('finish', () => log(`${req.method} https://${host}${path} ${res.statusCode}`));
  if (FILE_HOSTS.has(host)) return file(req, res, host, path);
  if (Object.values(REGISTRY_HOSTS).flat().includes(host)) return registry(req, res, host, path);
  return notFound(res, `host ${host}`);
}

function handleHttp(req, res) {
  const host = hostOf(req);
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  res.on('finish', () => log(`${req.method} http://${host}${path} ${res.statusCode}`));
  if (DEBIAN_HOSTS.has(host)) return debian(req, res, path);
  return notFound(res, `host ${host}`);
}

for (const f of ['ca.crt', 'server.crt', 'server.key'])
  if (!existsSync(join(opt.pki, f))) fail(`${join(opt.pki, f)} is missing: run bench/serve/ca.sh first`);
loadImages(opt.images);

const https = createHttpsServer({ cert: readFileSync(join(opt.pki, 'server.crt')), key: readFileSync(join(opt.pki, 'server.key')) }, handleHttps);
const http = createHttpServer(handleHttp);
let listening = 0;
for (const [server, port, what] of [[https, opt['https-port'], 'https'], [http, opt['http-port'], 'http']]) {
  server.on('error', (e) => fail(`cannot listen on ${opt.address}:${port} (${what}): ${e.message}`));
  server.listen(Number(port), opt.address, () => {
    log(`listening on ${what}://${opt.address}:${port}`);
    if (++listening === 2) log('ready');
  });
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
