// Shared by the lab.yaml bad-input tests: one bad case, and the check that its error names the field path,
// shows the bad value and says what is allowed, and that nothing was changed.
import { expect } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/load.js';

export interface BadCase {
  name: string;
  yaml: string;
  /** the field path the problem must name ('' = the document) */
  path: string;
  /** the bad value as the message must show it (omitted: nothing to show, e.g. a missing field or unknown key) */
  found?: string;
  /** what is allowed / how to fix, as the message must say it */
  allowed: RegExp;
}

/** The ConfigError that parsing `yaml` throws; a document that parses fails the test. */
export function problemsOf(yaml: string): ConfigError {
  try {
    parseConfig(yaml, 'lab.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`accepted:\n${yaml}`);
}

/** Asserts that the case is refused with a problem at its path, its value and its rule, and nothing changed. */
export function expectRefused({ yaml, path, found, allowed }: BadCase): void {
  const err = problemsOf(yaml);
  const hit = err.problems.find((p) => p.path === path && allowed.test(p.message));
  expect(hit, `no problem at "${path}" matching ${allowed} in:\n${err.message}`).toBeDefined();
  // The printed message carries the path, the value found and the rule, and says nothing changed.
  const line = err.message.split('\n').find((l) => l.startsWith(`  - ${path === '' ? '(document)' : path}`) && allowed.test(l));
  expect(line, err.message).toBeDefined();
  if (found !== undefined) expect(line).toContain(`(found ${found})`);
  expect(err.message).toMatch(/^lab.yaml: \d+ problems?; nothing was changed\./);
}
