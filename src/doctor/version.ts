// Dotted numeric versions ("2.3.4", "7.1.4"): enough for the tools the doctor asks.
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export const atLeast = (version: string, min: string): boolean => compareVersions(version, min) >= 0;
