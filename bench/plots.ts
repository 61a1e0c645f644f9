// SVG plots of a run's figures (vega-lite, rendered headless): history events per region
// for both designs, and the latency distributions. Written next to the run's JSON.
import { writeFileSync } from 'node:fs';
import type { HistoryRow } from './history';

type Point = Record<string, string | number>;

/** The little of vega-lite and vega that render() uses. */
interface VegaLite {
  compile(spec: Record<string, unknown>): { spec: unknown };
}
interface Vega {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}

/** The figures of a run (bench/support.ts `results`) that the plots draw. */
interface PlottedResults {
  m1?: unknown;
  m2?: { singleMs?: number[]; burstMs?: number[] };
  m3?: { oursMs?: number[]; naiveMs?: number[] };
  m4?: { oursMs?: number[]; naiveMs?: number[] };
  m7?: Record<string, number[]>;
}

async function render(spec: Record<string, unknown>, file: string): Promise<void> {
  // Both are ES modules only; tsx keeps import() as a real ESM import (untyped here:
  // their types need a newer moduleResolution than the project's CommonJS build).
  const load = (name: string): Promise<unknown> => import(name);
  const vl = (await load('vega-lite')) as VegaLite;
  const vega = (await load('vega')) as Vega;
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}

function historyPoints(rows: HistoryRow[]): Point[] {
  const out: Point[] = [];
  for (const r of rows) {
    const at = { regions: `${r.regions} regions`, soak: r.soak, checks: `every ${r.interval}` };
    out.push({ ...at, design: 'ours', events: r.ours });
    // A naive run the server terminated at the limit is drawn where it stopped.
    out.push({
      ...at,
      design: typeof r.naive === 'number' ? 'naive' : 'naive (stopped at the limit)',
      events: typeof r.naive === 'number' ? r.naive : r.naiveTotal / r.regions,
    });
  }
  return out;
}

function latencyPoints(results: PlottedResults): Point[] {
  const out: Point[] = [];
  const add = (measure: string, design: string, xs: number[] | undefined) => {
    for (const x of xs ?? []) out.push({ measure, design, ms: Math.max(1, x) });
  };
  add('M2 pause, one at a time', 'ours', results.m2?.singleMs);
  add('M2 pause, 20 at once', 'ours', results.m2?.burstMs);
  add('M3 breach → rollback', 'ours', results.m3?.oursMs);
  add('M3 breach → rollback', 'naive', results.m3?.naiveMs);
  add('M4 overhead per region', 'ours', results.m4?.oursMs);
  add('M4 overhead per region', 'naive', results.m4?.naiveMs);
  for (const [name, xs] of Object.entries(results.m7 ?? {})) add(`M7 ${name.replace(/^.*: /, '')}`, name.split(':')[0]!, xs);
  return out;
}

/** Writes `<prefix>-history.svg` and `<prefix>-latency.svg`; returns the files written. */
export async function writePlots(run: Record<string, unknown>, prefix: string): Promise<string[]> {
  const results = run as PlottedResults;
  const files: string[] = [];
  if (Array.isArray(results.m1)) {
    const file = `${prefix}-history.svg`;
    await render(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'M1 history events per region vs soak length (time-skipping server)',
        width: 180,
        height: 260,
        data: { values: historyPoints(results.m1 as HistoryRow[]) },
        mark: { type: 'line', point: true },
        encoding: {
          column: { field: 'regions', type: 'nominal', title: null },
          x: { field: 'soak', type: 'ordinal', title: 'soak' },
          y: { field: 'events', type: 'quantitative', scale: { type: 'log' }, title: 'events per region (log scale)' },
          color: { field: 'design', type: 'nominal', title: 'design' },
          strokeDash: { field: 'checks', type: 'nominal', title: 'checks' },
          shape: { field: 'checks', type: 'nominal', title: 'checks' },
        },
      },
      file,
    );
    files.push(file);
  }
  const points = latencyPoints(results);
  if (points.length) {
    const file = `${prefix}-latency.svg`;
    await render(
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'Latency distributions (dev server)',
        width: 420,
        height: 300,
        data: { values: points },
        mark: { type: 'tick', thickness: 2 },
        encoding: {
          y: { field: 'measure', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
          yOffset: { field: 'design' },
          x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds (log scale)' },
          color: { field: 'design', type: 'nominal' },
        },
      },
      file,
    );
    files.push(file);
  }
  return files;
}
