// Every lesson `k8slab verify` knows, in the order it runs and reports them.
import { closest } from 'fastest-levenshtein';
import { UserError } from '../util/errors.js';
import type { Lesson } from './types.js';
import { cluster } from './cluster.js';
import { services } from './services.js';
import { ingress } from './ingress.js';
import { access } from './access.js';
import { volumes } from './volumes.js';
import { workloads } from './workloads.js';
import { statefulset } from './statefulset.js';
import { mysql } from './mysql.js';

// The cluster first (nothing else means anything on a broken one), then the course's order: Services and
// Volumes (000/001), workloads (002/003), Ingress (002/003), StatefulSet and MySQL (004), API access (001).
export const LESSONS: readonly Lesson[] = [cluster, services, volumes, workloads, ingress, statefulset, mysql, access];

/**
 * The lessons named (all when none), in registry order. A name is a lesson ("services") or one check of it
 * ("services/nodeport-answers"): that lesson then runs with only the checks named, in its own order (each
 * check sets up what it needs). An unknown lesson or check is a usage error with a hint.
 */
export function selectLessons(names: readonly string[], all: readonly Lesson[] = LESSONS): Lesson[] {
  if (names.length === 0) return [...all];
  const ids = all.map((l) => l.id);
  /** lesson id -> the checks asked for, or 'all' */
  const wanted = new Map<string, Set<string> | 'all'>();
  for (const name of names) {
    const [lessonId = '', checkId] = name.split('/', 2);
    const lesson = all.find((l) => l.id === lessonId);
    if (!lesson) {
      throw new UserError(`unknown lesson "${lessonId}"`, 'usage', `did you mean "${closest(lessonId, ids)}"? \`k8slab verify --list\` shows them all`);
    }
    if (checkId === undefined) {
      wanted.set(lesson.id, 'all');
      continue;
    }
    const checkIds = lesson.checks.map((c) => c.id);
    if (!checkIds.includes(checkId)) {
      throw new UserError(
        `lesson ${lesson.id} has no check "${checkId}"`,
        'usage',
        `did you mean "${lesson.id}/${closest(checkId, checkIds)}"? \`k8slab verify --list --lesson ${lesson.id}\` shows its checks`,
      );
    }
    const sofar = wanted.get(lesson.id);
    if (sofar !== 'all') wanted.set(lesson.id, new Set([...(sofar ?? []), checkId]));
  }
  return all.flatMap((l) => {
    const w = wanted.get(l.id);
    if (w === undefined) return [];
    return w === 'all' ? [l] : [{ ...l, checks: l.checks.filter((c) => w.has(c.id)) }];
  });
}
