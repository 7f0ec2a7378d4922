// Vagrant's `--machine-readable` output: one record per line, "timestamp,target,type,data...".
// Vagrant escapes commas inside fields as "%!(VAGRANT_COMMA)" and newlines/CRs as literal "\n"/"\r",
// so a plain split on "," is exact once each field is unescaped.

export interface VagrantRecord {
  /** seconds since the epoch, as Vagrant printed it */
  timestamp: number;
  /** machine name, or "" for the whole environment */
  target: string;
  type: string;
  data: string[];
}

export function unescapeField(field: string): string {
  return field.replaceAll('%!(VAGRANT_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '\r');
}

/** One line -> a record, or undefined for lines that are not machine-readable (plugin noise, blank lines). */
export function parseLine(line: string): VagrantRecord | undefined {
  const trimmed = line.replace(/\r$/, '');
  const m = /^(\d+),([^,]*),([^,]+)(?:,(.*))?$/.exec(trimmed);
  if (!m) return undefined;
  const rest = m[4];
  return {
    timestamp: Number(m[1]),
    target: unescapeField(m[2]!),
    type: m[3]!,
    data: rest === undefined ? [] : rest.split(',').map(unescapeField),
  };
}

export function parseMachineReadable(text: string): VagrantRecord[] {
  return text.split('\n').flatMap((line) => {
    const rec = parseLine(line);
    return rec ? [rec] : [];
  });
}

/** The message of the `error-exit` record: [class name, message]. */
export function errorExit(records: readonly VagrantRecord[]): { kind: string; message: string } | undefined {
  const rec = records.find((r) => r.type === 'error-exit');
  if (!rec) return undefined;
  return { kind: rec.data[0] ?? '', message: rec.data.slice(1).join(',') };
}
