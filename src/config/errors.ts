// One error type for every bad input: each problem names the field path, the value found and what is
// allowed, so the message alone tells the user how to fix lab.yaml.

export interface ConfigProblem {
  /** Dotted path into lab.yaml, e.g. "workers.count". Empty for the document itself. */
  path: string;
  /** The offending value as found (undefined when the field is missing). */
  value?: unknown;
  /** What is wrong and what is allowed. */
  message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(formatProblems(source, problems));
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const head = `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was changed.`;
  const lines = problems.map((p) => {
    const where = p.path === '' ? '(document)' : p.path;
    const found = p.value === undefined ? '' : ` (found ${describeValue(p.value)})`;
    return `  - ${where}${found}: ${p.message}`;
  });
  return [head, ...lines].join('\n');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
