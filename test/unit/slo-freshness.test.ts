// Which series a Prometheus check asks for as current: the range selectors over {{window}}
// of its queries (activities/slo/prometheus.ts, freshnessQuery). A dead target keeps
// answering rate() over the soak with its old samples; only these say it is gone
// (end to end on a real Prometheus: test/integration/metric-faults.test.ts, "stale").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorRatioQuery, freshnessQuery, latencyQuantileQuery, requestCountQuery, windowSelectors } from '../../plan/promql';

test('the ready-made templates give the selectors of their windows', () => {
  const sel = (extra = '') => `m{service="{{service}}",region="{{region}}",version="{{version}}"${extra}}`;
  assert.deepEqual(windowSelectors(errorRatioQuery('m')), [sel(',code=~"5.."'), sel()]);
  assert.deepEqual(windowSelectors(requestCountQuery('m')), [sel()]);
  assert.deepEqual(windowSelectors(latencyQuantileQuery('h', 0.99)), [sel().replace(/^m/, 'h_bucket')]);
  // One query for a check and its traffic guard, each selector once.
  assert.equal(freshnessQuery([errorRatioQuery('m'), requestCountQuery('m')]), `group(${sel(',code=~"5.."')} or ${sel()})`);
});

test('a selector is taken whole: a metric alone, matchers alone, quoted braces and brackets', () => {
  assert.deepEqual(windowSelectors('sum(rate(up[{{window}}]))'), ['up']);
  assert.deepEqual(windowSelectors('rate({__name__="x",job="a"}[{{ window }}])'), ['{__name__="x",job="a"}']);
  assert.deepEqual(windowSelectors('rate(x{path="/a{b}[c]",q="say \\"}\\""}[{{window}}])'), ['x{path="/a{b}[c]",q="say \\"}\\""}']);
});

test('no range selector over {{window}}, no freshness query: an instant selector goes stale by itself', () => {
  assert.equal(freshnessQuery(['mrcd_error_ratio{region="{{region}}"}']), undefined);
  assert.equal(freshnessQuery(['rate(x[5m])', 'max_over_time(rate(x[1m])[{{window}}:15s])']), undefined);
  assert.equal(freshnessQuery(['x{a="}[{{window}}]"}']), undefined);
});
