// The review's charts: vega-lite specs rendered to SVG in node (no browser, no canvas), to
// be inlined into the HTML page. vega and vega-lite are ES modules; the literal import()s
// let esbuild bundle them into dist/mrcd.js (scripts/build-cli.js), and tsx runs them as
// real imports from the sources.
import { STAGES, VERDICTS, type ReviewReport } from './types';

interface VegaLite {
  compile(spec: Record<string, unknown>): { spec: unknown };
}
interface Vega {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}

const VERDICT_COLORS: Record<(typeof VERDICTS)[number], string> = {
  succeeded: '#2e7d32',
  'rolled-back': '#ef6c00',
  aborted: '#757575',
  failed: '#c62828',
  terminated: '#6a1b9a',
  'timed-out': '#8d6e63',
  'no-status': '#bdbdbd',
};

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

type Spec = Record<string, unknown>;

/** The chart specs of a review (vega-lite), empty where there is nothing to draw. */
export function chartSpecs(r: ReviewReport): { id: string; title: string; spec: Spec }[] {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'sans-serif', view: { stroke: null } } };
  const verdicts = r.byService.flatMap((g) =>
    VERDICTS.filter((v) => g.verdicts[v] > 0).map((v) => ({ service: g.key, verdict: v, rank: VERDICTS.indexOf(v), rollouts: g.verdicts[v] })),
  );
  const caught = r.byService.flatMap((g) =>
    g.caughtAt.map((n, i) => ({ service: g.key, region: `region ${i + 1}`, index: i, problems: n })).filter((x) => x.problems > 0),
  );
  const stages = r.byService.flatMap((g) =>
    STAGES.filter((s) => g.stages[s].p95Ms !== undefined).map((s) => ({ service: g.key, stage: s, seconds: g.stages[s].p95Ms! / 1000 })),
  );
  const specs: { id: string; title: string; spec: Spec }[] = [];
  if (verdicts.length)
    specs.push({
      id: 'verdicts',
      title: 'Verdicts per service',
      spec: {
        ...base,
        title: 'Verdicts per service',
        width: 420,
        height: { step: 22 },
        data: { values: verdicts },
        mark: 'bar',
        encoding: {
          y: { field: 'service', type: 'nominal', title: null, sort: 'ascending' },
          x: { field: 'rollouts', type: 'quantitative', title: 'rollouts', stack: 'zero', axis: { tickMinStep: 1 } },
          color: {
            field: 'verdict',
            type: 'nominal',
            sort: [...VERDICTS],
            scale: { domain: [...VERDICTS], range: VERDICTS.map((v) => VERDICT_COLORS[v]) },
            title: 'verdict',
          },
          order: { field: 'rank', type: 'quantitative' },
        },
      },
    });
  if (caught.length)
    specs.push({
      id: 'caught',
      title: 'Where problems were caught',
      spec: {
        ...base,
        title: 'Where problems were caught (region in plan order)',
        width: 420,
        height: 200,
        data: { values: caught },
        mark: 'bar',
        encoding: {
          // region 10 after region 9, not after region 1
          x: { field: 'region', type: 'ordinal', title: null, sort: { field: 'index', op: 'min' }, axis: { labelAngle: 0 } },
          y: { field: 'problems', type: 'quantitative', title: 'problem rollouts', axis: { tickMinStep: 1 } },
          color: { field: 'service', type: 'nominal', title: 'service' },
        },
      },
    });
  if (stages.length)
    specs.push({
      id: 'stages',
      title: 'Stage time, 95th percentile',
      spec: {
        ...base,
        title: 'Stage time, 95th percentile',
        // A bar per stage and service: wide enough that a quarter's forty services stay bars.
        width: Math.max(420, r.byService.length * STAGES.length * 6),
        height: 220,
        data: { values: stages },
        mark: 'bar',
        encoding: {
          x: { field: 'stage', type: 'nominal', title: null, sort: [...STAGES], axis: { labelAngle: 0 } },
          xOffset: { field: 'service', type: 'nominal' },
          y: { field: 'seconds', type: 'quantitative', title: 'p95 (seconds)' },
          color: { field: 'service', type: 'nominal', title: 'service' },
        },
      },
    });
  return specs;
}

let engines: Promise<{ vl: VegaLite; vega: Vega }> | undefined;
/** vega-lite and vega, loaded on first use: every other command starts without them. */
function load(): Promise<{ vl: VegaLite; vega: Vega }> {
  engines ??= Promise.all([
    // @ts-expect-error -- vega-lite's types resolve only with moduleResolution node16+; the project is CommonJS (typed by VegaLite above)
    import('vega-lite'),
    import('vega'),
  ]).then(([vl, vega]) => ({ vl: vl as unknown as VegaLite, vega: vega as unknown as Vega }));
  return engines;
}

/** Renders each chart to an SVG fit for inlining (no namespace URLs, no scripts). */
export async function renderCharts(r: ReviewReport): Promise<Chart[]> {
  const specs = chartSpecs(r);
  if (!specs.length) return [];
  const { vl, vega } = await load();
  const out: Chart[] = [];
  for (const { id, title, spec } of specs) {
    const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
    try {
      const svg = (await view.toSVG()).replace(/ xmlns(:xlink)?="[^"]*"/g, '');
      out.push({ id, title, svg: svg.replace('<svg ', `<svg role="img" aria-label="${title}" class="chart" data-chart="${id}" `) });
    } finally {
      view.finalize();
    }
  }
  return out;
}
