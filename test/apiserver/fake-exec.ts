// A FAKE `kubectl exec` for the apiserver tier, beside the fake kubelet (./fake-kubelet.ts): no container
// runs here, so the few commands the volume checks run in a pod are played against an in-memory store of
// files. Which store a path reaches is decided from the real API objects, as the kubelet would: the pod's
// volumeMounts, its volumes, and for a claim the PV it is bound to. emptyDir files belong to the pod's uid;
// hostPath files (directly, or behind a PV) to the pod's node and the path. Every other command goes to the
// real executor. An exec into a pod the API does not have answers as kubectl does (NotFound).
import { parse } from 'shell-quote';
import type { Executor } from '../../src/lessons/types.js';
import type { ExecResult } from '../../src/lessons/types.js';

interface ExecPod {
  metadata: { uid: string };
  spec: {
    nodeName?: string;
    containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
    volumes?: { name: string; emptyDir?: object; hostPath?: { path: string }; persistentVolumeClaim?: { claimName: string } }[];
  };
  status?: { phase?: string };
}

export interface FakeExec extends Executor {
  /** store key ("emptyDir <uid> <volume>" or "hostPath <node> <path>") -> file name -> content */
  readonly stores: Map<string, Map<string, string>>;
  /** the exec command lines it answered, in order */
  readonly answered: string[];
}

export interface FakeExecOptions {
  /** a broken kubelet that keys emptyDir by pod name: the data outlives the pod */
  emptyDirByName?: boolean;
}

const result = (exitCode: number, stdout = '', stderr = ''): ExecResult => ({ exitCode, stdout, stderr });

export function fakeExec(inner: Executor, opts: FakeExecOptions = {}): FakeExec {
  const stores = new Map<string, Map<string, string>>();
  const answered: string[] = [];
  const json = async <T>(ns: string, what: string): Promise<T | undefined> => {
    const res = await inner.run(`kubectl -n ${ns} get ${what} -o json`);
    return res.exitCode === 0 ? (JSON.parse(res.stdout) as T) : undefined;
  };

  /** The store and file name behind an absolute path in the container, or a reason it has none. */
  async function locate(ns: string, name: string, pod: ExecPod, container: string | undefined, file: string): Promise<{ store: Map<string, string>; name: string } | string> {
    const c = container === undefined ? pod.spec.containers[0] : pod.spec.containers.find((x) => x.name === container);
    if (c === undefined) return `container ${container} not found`;
    const mount = (c.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
    if (mount === undefined) return `${file}: no volume mounted there (the fake keeps only volume files)`;
    const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
    let key: string | undefined;
    if (volume?.emptyDir) key = `emptyDir ${opts.emptyDirByName ? name : pod.metadata.uid} ${volume.name}`;
    else if (volume?.hostPath) key = `hostPath ${pod.spec.nodeName} ${volume.hostPath.path}`;
    else if (volume?.persistentVolumeClaim) {
      const pvc = await json<{ spec: { volumeName?: string } }>(ns, `pvc ${volume.persistentVolumeClaim.claimName}`);
      const pv = pvc?.spec.volumeName ? await json<{ spec: { hostPath?: { path: string } } }>(ns, `pv ${pvc.spec.volumeName}`) : undefined;
      if (pv?.spec.hostPath) key = `hostPath ${pod.spec.nodeName} ${pv.spec.hostPath.path}`;
    }
    if (key === undefined) return `${file}: volume ${mount.name} is of a kind the fake does not store`;
    if (!stores.has(key)) stores.set(key, new Map());
    return { store: stores.get(key)!, name: file.slice(mount.mountPath.length + 1) };
  }

  async function execIn(ns: string, name: string, container: string | undefined, argv: string[]): Promise<ExecResult> {
    const pod = await json<ExecPod>(ns, `pod ${name}`);
    if (pod === undefined) return result(1, '', `Error from server (NotFound): pods "${name}" not found\n`);
    if (pod.status?.phase !== 'Running') return result(1, '', `error: unable to upgrade connection: container not found ("${container ?? ''}")\n`);
    const script = argv[0] === 'sh' && argv[1] === '-c' ? argv[2]! : argv.join(' ');
    let m: RegExpExecArray | null;
    const at = async (file: string) => {
      const where = await locate(ns, name, pod, container, file);
      if (typeof where === 'string') throw new Error(where);
      return where;
    };
    if ((m = /^echo (\S+) > (\S+)$/.exec(script))) {
      const { store, name: f } = await at(m[2]!);
      store.set(f, `${m[1]}\n`);
      return result(0);
    }
    if ((m = /^cat (\S+)( 2>\/dev\/null \|\| true)?$/.exec(script))) {
      const { store, name: f } = await at(m[1]!);
      const text = store.get(f);
      if (text !== undefined) return result(0, text);
      return m[2] ? result(0) : result(1, '', `cat: can't open '${m[1]}': No such file or directory\n`);
    }
    if ((m = /^ls -A (\S+)$/.exec(script))) {
      const { store } = await at(`${m[1]}/.`);
      return result(0, [...store.keys()].sort().map((f) => `${f}\n`).join(''));
    }
    if ((m = /^rm -f (\S+)$/.exec(script))) {
      const { store, name: f } = await at(m[1]!);
      store.delete(f);
      return result(0);
    }
    throw new Error(`fake exec: no answer for ${JSON.stringify(script)} (extend test/apiserver/fake-exec.ts)`);
  }

  return {
    name: `${inner.name}+fake-exec`,
    stores,
    answered,
    async run(command, runOpts) {
      const words = parse(command).filter((w): w is string => typeof w === 'string');
      const exec = words.indexOf('exec');
      if (words[0] !== 'kubectl' || exec < 0 || words[1] !== '-n') return inner.run(command, runOpts);
      const ns = words[2]!;
      const dashes = words.indexOf('--');
      const pod = words[exec + 1]!;
      const c = words.indexOf('-c');
      const container = c > exec && c < dashes ? words[c + 1] : undefined;
      answered.push(command);
      return execIn(ns, pod, container, words.slice(dashes + 1));
    },
  };
}
