// What every benchmark shares: the run's mode and results, percentiles, tables, and the
// naive baseline (bench/naive-workflow.ts) with its activities.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import Table from 'cli-table3';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { Call } from '../test/support/rollout-harness';

export const QUICK = process.argv.includes('--quick');
/** The figures of this run, written to bench/results/latest-{quick,full}.json. */
export const results: Record<string, unknown> = { quick: QUICK, at: new Date().toISOString(), machine: `${cpus().length} cores, node ${process.version}` };

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '—');

export function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] } });
}

export const sleep = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

let naiveBundle: Promise<WorkflowBundle> | undefined;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
export const naiveCode = () => (naiveBundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./naive-workflow'), logger: quiet }));

/** The naive design's activities: instant, a breach once `breachAfterMs` has passed since the deploy. */
export function naiveActivities(breachAfterMs?: number, calls: Call[] = []) {
  return {
    async deployRegion(i: { region: string }) {
      calls.push({ kind: 'deploy', region: i.region, at: Date.now() });
      return {};
    },
    async rollbackRegion(i: { region: string }) {
      calls.push({ kind: 'rollback', region: i.region, at: Date.now() });
      return {};
    },
    async naiveCheck(i: { region: string; since: number }) {
      return breachAfterMs !== undefined && Date.now() >= i.since + breachAfterMs ? 'breach' : 'pass';
    },
    async evaluateGate() {
      return { verdict: 'pass', checks: [], at: Date.now() };
    },
  };
}

export const regionsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `r${i + 1}`, size: i + 1 }));

let seq = 0;
/** A fresh name for a task queue or workflow id within this run. */
export const next = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;

/** Resident memory of a process in MB (Linux /proc), or NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
