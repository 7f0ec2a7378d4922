// Template helpers. They are the only way a config value reaches a generated file, so each one
// turns a value into a literal of the target language that can never be read as code.
import { shQuote } from '../util/shell.js';

/** Bash: a word that bash reads back as exactly `value` (util/shell.ts: plain when safe, else quoted). */
export function sh(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return shQuote(String(value));
  if (typeof value !== 'string') throw new TypeError(`sh: expected a string or a number, got ${describe(value)}`);
  // bash strings end at a NUL: refuse rather than let the value be cut short.
  if (value.includes('\0')) throw new TypeError('sh: a NUL character cannot be part of a bash value');
  return shQuote(value);
}

/**
 * Ruby: a single-quoted string literal. Inside '...' Ruby only knows \\ and \', so #{} and newlines stay
 * text. Other control characters (a CR would be folded into the line ending) go in as adjacent "\u{..}"
 * literals, which Ruby joins to the quoted parts: 'a' "\u{d}" 'b' is "a\rb".
 */
export function rb(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`rb: expected a string, got ${describe(value)}`);
  const parts = value.split(/([\u0000-\u0008\u000b-\u001f\u007f])/);
  return parts
    .map((part, i) =>
      i % 2 === 1 ? `"\\u{${part.charCodeAt(0).toString(16)}}"` : `'${part.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
    )
    .join(' ');
}

/** An integer, checked: a number written bare into Ruby or bash must be nothing but digits. */
export function int(value: unknown): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`int: expected a whole number, got ${describe(value)}`);
  }
  return String(value);
}

/** YAML (and JSON): a double-quoted scalar. */
export function yamlString(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`yaml: expected a string, got ${describe(value)}`);
  return JSON.stringify(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (a missing value)';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
