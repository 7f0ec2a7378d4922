// The table `up` ends with: node, role, IP, kubelet version, status; then the time of each phase.
import type { NodeReadiness } from '../cluster/readiness.js';
import type { MachineState } from '../provider/types.js';
import type { Plan } from '../plan/plan.js';
import type { LabState } from '../state/lab-state.js';
import { formatSeconds } from './progress.js';
import { table } from '../util/table.js';


export interface SummaryRow {
  node: string;
  role: string;
  ip: string;
  vm: string;
  kubelet: string;
  status: string;
}

export function summaryRows(plan: Plan, vms: readonly MachineState[], nodes: readonly NodeReadiness[]): SummaryRow[] {
  return plan.nodes.map((n) => {
    const k = nodes.find((x) => x.name === n.name);
    return {
      node: n.name,
      role: n.role,
      ip: n.ip,
      vm: vms.find((m) => m.name === n.name)?.state ?? 'unknown',
      kubelet: k?.kubeletVersion ?? '-',
      status: k ? k.status : '-',
    };
  });
}

export function formatSummary(rows: readonly SummaryRow[], state: LabState, phaseOrder: readonly string[]): string {
  const nodes = table(
    ['NODE', 'ROLE', 'IP', 'VM', 'KUBELET', 'STATUS'],
    rows.map((r) => [r.node, r.role, r.ip, r.vm, r.kubelet, r.status]),
  );
  const phases = table(
    ['PHASE', 'STATUS', 'TIME'],
    phaseOrder.flatMap((p) => {
      const rec = state.phases[p];
      return rec ? [[p, rec.status, rec.seconds === undefined ? '-' : formatSeconds(rec.seconds)]] : [];
    }),
  );
  return `${nodes}\n${phases}`;
}
