// The rollout metrics as documented: docs/operations.md ("Metrics") lists every metric of
// domain/metrics.ts under the name Prometheus shows, with its type and tags, and the
// exporter has buckets for every histogram (its defaults stop at 10 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportedName, METRIC_BUCKETS, ROLLOUT_METRICS } from '../../domain/metrics';

const ROOT = join(__dirname, '..', '..');

test('docs/operations.md lists every rollout metric with its exported name, type and tags, and no other', () => {
  const ops = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const section = ops.slice(ops.indexOf('\n## Metrics\n'), ops.indexOf('\n## ', ops.indexOf('\n## Metrics\n') + 1));
  assert.ok(section.length > 100, 'docs/operations.md has a "Metrics" section');
  const rows = new Map(
    [...section.matchAll(/^\| `(mrcd_\w+)` \| (\w+) \| ([^|]+) \|/gm)].map((r) => [
      r[1]!,
      { kind: r[2]!, tags: [...r[3]!.matchAll(/`(\w+)`/g)].map((t) => t[1]) },
    ]),
  );
  const defined = Object.values(ROLLOUT_METRICS);
  assert.deepEqual([...rows.keys()].sort(), defined.map(exportedName).sort());
  for (const m of defined) assert.deepEqual(rows.get(exportedName(m)), { kind: m.kind, tags: [...m.tags] }, m.name);
  for (const v of ['MRCD_METRICS_PORT', 'MRCD_METRICS_HOST']) assert.ok(section.includes(`\`${v}\``), `the section names ${v}`);
  assert.match(section, /```promql\n/, 'with example queries');
});

test('every histogram has buckets for its durations, ascending', () => {
  for (const m of Object.values(ROLLOUT_METRICS).filter((d) => d.kind === 'histogram')) {
    const b = METRIC_BUCKETS[m.name];
    assert.ok(b && b.length > 5, `${m.name} has buckets`);
    assert.deepEqual(
      [...b].sort((x, y) => x - y),
      b,
    );
    assert.ok(b.at(-1)! >= 86_400, `${m.name} reaches a day`);
  }
});

test("README's configuration table has the metrics variables and points to the section", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^\| `MRCD_METRICS_PORT`, `MRCD_METRICS_HOST` \|.*docs\/operations\.md#metrics/m);
});
