#!/usr/bin/env bash
# The traefik binary build.sh made, routing the ingress lesson's own Ingress (manifests/ingress/ingress.yaml)
# by host and by path against a real kube-apiserver (control-plane.sh, no nodes), authorized only by the
# ServiceAccount and ClusterRole of the lab's controller manifest (master_node.sh, as in the golden file).
# The two Services point by hand (EndpointSlices) at two small HTTP servers in a network namespace made
# here; traefik runs as a process on loopback. Prints each request and its answer, and the Ingress's
# ADDRESS once the controller's Service has one. Needs root (the namespace); exits non-zero on a wrong route.
#
#   ingress-selftest.sh        (npm run stack:ingress-selftest)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
W=$(cd "$here/../.." && pwd)
T=$STACK_CACHE/bin/traefik/$TRAEFIK_VERSION/traefik
[[ -x $T ]] || die "$T is not built: npm run stack:build:ingress"
NS=k8slab-ingress-selftest
NAME=k8slab-ingress-selftest
OUT=$STACK_CACHE/ingress-selftest
rm -rf "$OUT" && mkdir -p "$OUT"
# traefik reads a static configuration from ./traefik.{yml,yaml,toml} when there is one: run where there is none
cd "$OUT"
export PATH=$STACK_CACHE/bin/kubernetes/$KUBE_VERSION:$PATH
cleanup() {
  [[ -n ${TP:-} ]] && kill "$TP" 2>/dev/null || true
  ip netns pids $NS 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del $NS 2>/dev/null || true
  ip link del kip0 2>/dev/null || true
  bash "$here/control-plane.sh" down --name $NAME >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash "$here/control-plane.sh" up --name $NAME >"$OUT/cp.log" 2>&1
eval "$(bash "$here/control-plane.sh" env --name $NAME | sed 's/^/export /')"
kubectl version -o json | jq -r .serverVersion.gitVersion
# backends: two busybox-free python servers in a netns, each answering "Hostname : <name>" on any path
ip netns add $NS; ip link add kip0 type veth peer name kip1; ip link set kip1 netns $NS
ip addr add 10.253.7.1/30 dev kip0; ip link set kip0 up
ip netns exec $NS ip addr add 10.253.7.2/30 dev kip1; ip netns exec $NS ip link set kip1 up; ip netns exec $NS ip link set lo up
for b in hname:8081 ip:8082; do
  ip netns exec $NS python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body=b'Hostname : ${b%%:*}-backend\n'; self.send_response(200); self.send_header('Content-Length',str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self,*a): pass
http.server.HTTPServer(('10.253.7.2',${b#*:}),H).serve_forever()" &
done
sleep 1
# the lab's own controller manifest, as master_node.sh writes it (golden file), with its variables filled in
awk '/put_file "\$dir\/traefik.yaml"/{f=1; next} f && /^YAML$/{exit} f' "$W/test/golden/default/master_node.sh" |
  sed "s|\\\$INGRESS_IMAGE|docker.io/library/traefik:$TRAEFIK_VERSION|; s|\\\$INGRESS_SERVICE_TYPE|LoadBalancer|" >"$OUT/controller.yaml"
kubectl apply --server-side -f "$OUT/controller.yaml"
# the lesson's Services, pointed by hand (EndpointSlices) at the netns backends, and its Ingress as written
kubectl create namespace demo
for s in hname-svc:8081 ip-svc:8082; do
  kubectl -n demo apply -f - <<YAML
apiVersion: v1
kind: Service
metadata: { name: ${s%%:*} }
spec: { ports: [{ name: http, port: 80, targetPort: ${s#*:} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${s%%:*}-1, labels: { kubernetes.io/service-name: ${s%%:*} } }
addressType: IPv4
ports: [{ name: http, port: ${s#*:}, protocol: TCP }]
endpoints: [{ addresses: [10.253.7.2], conditions: { ready: true } }]
YAML
done
kubectl -n demo apply -f "$W/manifests/ingress/ingress.yaml"
kubectl -n demo get ingress ingress-lab -o jsonpath='{.spec.ingressClassName}{"\n"}'
# traefik as the ServiceAccount of the manifest: its token, so only the ClusterRole above authorizes it
TOKEN=$(kubectl -n traefik create token traefik)
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$OUT/ca.crt"
$T version
# KUBECONFIG (the admin's, exported above) would take precedence over the token in traefik's client: unset it
env -u KUBECONFIG "$T" --entryPoints.web.address=127.0.0.1:18000 --entryPoints.traefik.address=127.0.0.1:18080 --ping=true \
  --providers.kubernetesIngress=true --providers.kubernetesIngress.endpoint="$SERVER" --providers.kubernetesIngress.token="$TOKEN" \
  --providers.kubernetesIngress.certAuthFilePath="$OUT/ca.crt" \
  --providers.kubernetesIngress.ingressEndpoint.publishedService=traefik/traefik \
  --global.checkNewVersion=false --global.sendAnonymousUsage=false --log.level=INFO >"$OUT/traefik.log" 2>&1 &
TP=$!
for _ in $(seq 60); do curl -fsS http://127.0.0.1:18080/ping >/dev/null 2>&1 && break; sleep 1; done
for _ in $(seq 60); do curl -fsS -H 'Host: ip.k8slab.test' http://127.0.0.1:18000/ 2>/dev/null | grep -q ip-backend && break; sleep 1; done
echo "--- requests to the controller address 127.0.0.1:18000"
for r in "hname.k8slab.test /" "ip.k8slab.test /" "- /" "- /ip"; do
  h=${r%% *} p=${r#* }
  if [[ $h == - ]]; then out=$(curl -sS http://127.0.0.1:18000$p); else out=$(curl -sS -H "Host: $h" http://127.0.0.1:18000$p); fi
  echo "Host ${h/-/(none)} path $p -> $out"
  # / and hname.k8slab.test belong to hname-svc; /ip and ip.k8slab.test to ip-svc
  want=hname; [[ $h == ip.k8slab.test || $p == /ip ]] && want=ip
  [[ $out == "Hostname : $want-backend" ]] || die "Host ${h/-/(none)} path $p reached '$out', not $want-svc"
done
# the published Service gets an address (as MetalLB would give it): traefik copies it into the Ingress
kubectl -n traefik patch service traefik --subresource=status --type=merge -p '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.200"}]}}}' >/dev/null
for _ in $(seq 30); do a=$(kubectl -n demo get ingress ingress-lab -o jsonpath='{.status.loadBalancer.ingress[0].ip}'); [[ -n $a ]] && break; sleep 1; done
echo "Ingress ADDRESS: ${a:-none}"
kubectl -n demo get ingress
[[ -n ${a:-} ]] || die "traefik wrote no ADDRESS into the Ingress"
! grep -qi forbidden "$OUT/traefik.log" || die "traefik was refused something by RBAC: see $OUT/traefik.log"
log "ingress self-test passed: traefik $TRAEFIK_VERSION routed by host and by path, with the lab's RBAC only"
