// The ingress lesson's verdicts, on answers made up to show each way a controller can misroute: a route
// passes only when every answer came from a pod of the Service it names.
import { describe, expect, it } from 'vitest';
import { controllerUrl, HOST_ROUTES, judgeRoute, PATH_ROUTES, type Answer } from '../../src/lessons/ingress.js';
import type { Service } from '../../src/lessons/k8s.js';

const pods = { 'hname-svc': ['hname-5d9c-2xv'], 'ip-svc': ['ip-7f4b-8kq'] } as const;
const from = (...names: string[]): Answer[] => names.map((pod) => ({ pod }));

describe('judgeRoute', () => {
  const [byHostH, byHostIp] = HOST_ROUTES as [typeof HOST_ROUTES[0], typeof HOST_ROUTES[0]];
  const [rootPath, ipPath] = PATH_ROUTES as [typeof PATH_ROUTES[0], typeof PATH_ROUTES[0]];

  it('passes when every answer comes from the expected Service', () => {
    expect(judgeRoute(byHostH, from('hname-5d9c-2xv', 'hname-5d9c-2xv'), pods)).toBeUndefined();
    expect(judgeRoute(ipPath, from('ip-7f4b-8kq'), pods)).toBeUndefined();
  });

  it('fails a host rule answered by the other Service (a controller ignoring Host)', () => {
    expect(judgeRoute(byHostIp, from('ip-7f4b-8kq', 'hname-5d9c-2xv'), pods)).toBe('ip.k8slab.test/ was answered by hname-5d9c-2xv of hname-svc, not by ip-svc');
  });

  it('fails a path rule answered by the catch-all (a controller ignoring paths)', () => {
    expect(judgeRoute(ipPath, from('hname-5d9c-2xv'), pods)).toBe('(the controller address)/ip was answered by hname-5d9c-2xv of hname-svc, not by ip-svc');
  });

  it('fails on no answer, an answer from neither Service, or no request at all', () => {
    expect(judgeRoute(rootPath, [{ pod: 'hname-5d9c-2xv' }, { error: 'no answer (wget exit 1: 404 Not Found)' }], pods)).toBe(
      '(the controller address)/: no answer (wget exit 1: 404 Not Found)',
    );
    expect(judgeRoute(rootPath, from('web-0'), pods)).toBe('(the controller address)/ was answered by web-0, a pod of neither Service');
    expect(judgeRoute(rootPath, [], pods)).toBe('(the controller address)/: no request was made');
  });
});

describe('controllerUrl', () => {
  const svc = (type: string, o: { nodePort?: number; lb?: string } = {}): Service => ({
    metadata: { name: 'traefik', namespace: 'traefik', uid: 'u' },
    spec: { type, ports: [{ port: 80, ...(o.nodePort ? { nodePort: o.nodePort } : {}) }] },
    ...(o.lb ? { status: { loadBalancer: { ingress: [{ ip: o.lb }] } } } : {}),
  });
  const nodes = new Map([['m-k8s', '192.168.56.10']]);

  it('takes the LoadBalancer address when MetalLB gave one, else a node and the nodePort', () => {
    expect(controllerUrl(svc('LoadBalancer', { nodePort: 31080, lb: '192.168.56.200' }), nodes)).toBe('http://192.168.56.200:80');
    expect(controllerUrl(svc('LoadBalancer', { nodePort: 31080 }), nodes)).toBe('http://192.168.56.10:31080');
    expect(controllerUrl(svc('NodePort', { nodePort: 31080 }), nodes)).toBe('http://192.168.56.10:31080');
  });

  it('has no address for a ClusterIP Service or without a node', () => {
    expect(controllerUrl(svc('ClusterIP'), nodes)).toBeUndefined();
    expect(controllerUrl(svc('NodePort', { nodePort: 31080 }), new Map())).toBeUndefined();
  });
});
