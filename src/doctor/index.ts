export { runDoctor, judge, hasFailure } from './run.js';
export { gatherFacts, type HostFacts, type GatherOptions, DEFAULT_VBOX_NETWORKS_CONF } from './facts.js';
export { realHost, type Host } from './host.js';
export { formatJson, formatTable } from './format.js';
export type { CheckResult, CheckStatus } from './types.js';
