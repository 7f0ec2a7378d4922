// Turns manifests/<lesson>/<file>.yaml into what the runner applies: placeholders filled in
// (see manifests/README.md), the lesson label on every object. Pure: text in, text out.
import { parseAllDocuments, isMap, isScalar, YAMLMap, type Document } from 'yaml';
import { LESSON_LABEL } from './types.js';
import type { ImageKey } from '../config/images.js';

export interface RenderVars {
  images: Readonly<Record<ImageKey, string>>;
  namespace: string;
  lesson: string;
}

export interface ManifestObject {
  kind: string;
  name: string;
  clusterScoped: boolean;
}

/** Kinds the lessons may create outside their namespace; the runner deletes them by label afterwards. */
export const CLUSTER_SCOPED_KINDS: ReadonlyMap<string, string> = new Map([
  ['PersistentVolume', 'persistentvolumes'],
  ['StorageClass', 'storageclasses.storage.k8s.io'],
  ['ClusterRole', 'clusterroles.rbac.authorization.k8s.io'],
  ['ClusterRoleBinding', 'clusterrolebindings.rbac.authorization.k8s.io'],
]);

const PLACEHOLDER = /\$\{([^}]*)\}/g;

export function substitute(text: string, vars: RenderVars, where: string): string {
  const lines = text.split('\n');
  return lines
    .map((line, i) =>
      line.replace(PLACEHOLDER, (_m, key: string) => {
        const value = lookup(key.trim(), vars);
        if (value === undefined) {
          throw new Error(
            `${where}:${i + 1}: unknown placeholder \${${key}}; use \${image.<key>} (${Object.keys(vars.images).join(', ')}), \${namespace} or \${lesson} (manifests/README.md)`,
          );
        }
        return value;
      }),
    )
    .join('\n');
}

function lookup(key: string, vars: RenderVars): string | undefined {
  if (key === 'namespace') return vars.namespace;
  if (key === 'lesson') return vars.lesson;
  const m = /^image\.(\w+)$/.exec(key);
  if (m && Object.hasOwn(vars.images, m[1]!)) return vars.images[m[1] as ImageKey];
  return undefined;
}

/**
 * Parses the documents as kubectl does (YAML 1.1, where `no` is a boolean), adds the lesson label and
 * returns the text to apply with the objects it holds.
 */
export function labelObjects(text: string, lesson: string, where: string): { text: string; objects: ManifestObject[] } {
  const docs = parseAllDocuments(text, { version: '1.1' });
  if (!Array.isArray(docs)) throw new Error(`${where}: not a YAML stream`);
  const objects: ManifestObject[] = [];
  const out: string[] = [];
  for (const doc of docs as Document[]) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]!.message}`);
    // an empty document (a leading or trailing ---)
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    if (!isMap(doc.contents)) throw new Error(`${where}: every document must be a Kubernetes object (a mapping)`);
    const kind = doc.get('kind');
    const name = doc.getIn(['metadata', 'name']);
    if (typeof kind !== 'string') throw new Error(`${where}: an object has no kind`);
    if (typeof name !== 'string') {
      throw new Error(`${where}: ${kind} has no string metadata.name (YAML 1.1 reads y/n/yes/no/on/off as booleans)`);
    }
    if (doc.hasIn(['metadata', 'namespace'])) {
      throw new Error(`${where}: ${kind}/${name} sets metadata.namespace; the runner puts objects in the lesson's namespace`);
    }
    // An explicit map: under the YAML 1.1 schema, setIn would create an !!omap that kubectl rejects.
    if (!doc.hasIn(['metadata', 'labels'])) doc.setIn(['metadata', 'labels'], new YAMLMap());
    doc.setIn(['metadata', 'labels', LESSON_LABEL], lesson);
    objects.push({ kind, name, clusterScoped: CLUSTER_SCOPED_KINDS.has(kind) });
    out.push(doc.toString({ lineWidth: 0 }));
  }
  if (objects.length === 0) throw new Error(`${where}: holds no object`);
  return { text: out.join('---\n'), objects };
}
