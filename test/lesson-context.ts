// A LessonContext for tests: the services lesson's namespace, time scale 1, the real local executor, the
// default images and a cluster with no capabilities, unless the test says otherwise.
import { LessonContext, type LessonScope } from '../src/lessons/context.js';
import { DEFAULT_IMAGES, DEFAULT_LESSON_SETTINGS } from '../src/config/images.js';
import type { ClusterFacts } from '../src/lessons/types.js';
import { localExecutor } from '../src/nodes/executors.js';

export const noFacts = (): ClusterFacts => ({ capabilities: new Set(), missing: new Map(), off: new Map(), nodeIps: new Map(), schedulableNodes: [], arch: [] });

export function testContext(scope: Partial<LessonScope> = {}): LessonContext {
  return new LessonContext({
    lesson: 'services',
    ns: 'k8slab-services',
    timeScale: 1,
    manifestsDir: '',
    executor: localExecutor(),
    images: DEFAULT_IMAGES,
    settings: DEFAULT_LESSON_SETTINGS,
    facts: noFacts(),
    applied: [],
    ...scope,
  });
}
