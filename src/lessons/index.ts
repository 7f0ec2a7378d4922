// Every lesson `k8slab verify` knows, in the order it runs and reports them.
import { closest } from 'fastest-levenshtein';
import { UserError } from '../util/errors.js';
import { EXIT } from '../cli/exit-codes.js';
import type { Lesson } from './types.js';
import { services } from './services.js';
import { access } from './access.js';
import { volumes } from './volumes.js';
import { workloads } from './workloads.js';
import { statefulset } from './statefulset.js';
import { mysql } from './mysql.js';

// The course's order: Services and Volumes (000/001), workloads (002/003), StatefulSet and MySQL (004), API access (001).
export const LESSONS: readonly Lesson[] = [services, volumes, workloads, statefulset, mysql, access];

/** The lessons named (all when none), in registry order; an unknown name is a usage error with a hint. */
export function selectLessons(names: readonly string[], all: readonly Lesson[] = LESSONS): Lesson[] {
  const ids = all.map((l) => l.id);
  for (const name of names) {
    if (!ids.includes(name)) {
      throw new UserError(`unknown lesson "${name}"`, EXIT.usage, `did you mean "${closest(name, ids)}"? \`k8slab verify --list\` shows them all`);
    }
  }
  return names.length === 0 ? [...all] : all.filter((l) => names.includes(l.id));
}
