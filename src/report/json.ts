// `verify --json`: the whole run as one document (facts, per-lesson setup/cleanup, every check with its
// transcript), with Sets and Maps turned into plain arrays and objects.
import type { RunResult } from '../lessons/runner.js';
import { summarize, type Summary } from './summary.js';
import type { CheckResult, Transcript } from '../lessons/types.js';

export interface JsonReport {
  version: 1;
  seconds: number;
  summary: Summary;
  facts: {
    capabilities: string[];
    missing: Record<string, string>;
    /** what the lab was configured without, with the lab.yaml change that turns it on */
    off: Record<string, string>;
    nodeIps: Record<string, string>;
    schedulableNodes: string[];
    arch: string[];
    transcript: Transcript[];
  };
  lessons: { lesson: string; title: string; source: string; seconds: number; namespace: string; setup: Transcript[]; cleanup: Transcript[] }[];
  results: CheckResult[];
}

export function toJsonReport(run: RunResult): JsonReport {
  return {
    version: 1,
    seconds: round(run.seconds),
    summary: summarize(run.results),
    facts: {
      capabilities: [...run.facts.capabilities].sort(),
      missing: Object.fromEntries(run.facts.missing),
      off: Object.fromEntries(run.facts.off),
      nodeIps: Object.fromEntries(run.facts.nodeIps),
      schedulableNodes: [...run.facts.schedulableNodes],
      arch: [...run.facts.arch],
      transcript: run.factsTranscript,
    },
    lessons: run.lessons.map(({ lesson, title, source, seconds, namespace, setup, cleanup }) => ({ lesson, title, source, seconds: round(seconds), namespace, setup, cleanup })),
    results: run.results.map((r) => ({ ...r, seconds: round(r.seconds) })),
  };
}

export function renderJson(run: RunResult): string {
  return `${JSON.stringify(toJsonReport(run), null, 2)}\n`;
}

const round = (s: number) => Math.round(s * 1000) / 1000;
