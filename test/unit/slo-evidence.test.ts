// The fail-closed evidence rules of activities/slo/evidence.ts, which any SLO provider
// reuses: each unusable measurement is named, and only a usable one is let through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cannotShowMet, notANumber, partialAnswer, singleFreshSample, tooLittleTraffic, type Sample } from '../../activities/slo/evidence';

const NOW = 1_800_000_000_000;
const sample = (value: number, ageMs = 0, labels: Record<string, string> = {}): Sample => ({ labels, ts: NOW - ageMs, value });
const rule = { min: 10, now: NOW, staleAfterMs: 60_000, window: '30s', source: 'Datadog', wouldPass: 'the value 0.01 would pass < 0.05' };

test('one fresh series is usable; none, several or a stale one is not, each said why', () => {
  assert.deepEqual(singleFreshSample([sample(1)], NOW, 60_000), { ok: true, sample: sample(1) });
  const none = singleFreshSample([], NOW, 60_000);
  assert.ok(!none.ok && /^no data: /.test(none.why));
  const two = singleFreshSample([sample(1, 0, { region: 'a' }), sample(2, 0, { region: 'b' })], NOW, 60_000);
  assert.ok(!two.ok && two.why.includes('ambiguous: the query returned 2 series ({region="a"}, {region="b"})'));
  const old = singleFreshSample([sample(1, 61_000)], NOW, 60_000);
  assert.ok(!old.ok && old.why === 'stale data: the sample is 61s old (limit 60s)');
});

test('NaN and a non-breaching infinity are no measurement; finite numbers are', () => {
  assert.match(notANumber(NaN, '30s') ?? '', /NaN, usually zero traffic \(0\/0\) in the last 30s/);
  assert.equal(notANumber(0, '30s'), undefined);
  assert.match(cannotShowMet(-Infinity) ?? '', /returned -Inf, which cannot show the SLO is met/);
  assert.equal(cannotShowMet(0.01), undefined);
});

test('warnings make an answer partial, named by its source and bounded', () => {
  assert.equal(partialAnswer({ samples: [sample(1)], warnings: [] }, 'Datadog'), undefined);
  const long = partialAnswer({ samples: [sample(1)], warnings: ['x'.repeat(1000)] }, 'Datadog')!;
  assert.match(long, /^Datadog returned warnings, so the answer may be partial: x+…$/);
  assert.ok(long.length < 400);
});

test('traffic: no series, unusable, not finite, warned or under the minimum is too little; enough is not', () => {
  assert.match(tooLittleTraffic({ samples: [], warnings: [] }, rule) ?? '', /no series \(0 < 10\)/);
  assert.match(tooLittleTraffic({ samples: [sample(50, 120_000)], warnings: [] }, rule) ?? '', /^too little traffic evidence: stale data/);
  assert.match(tooLittleTraffic({ samples: [sample(Infinity)], warnings: [] }, rule) ?? '', /returned \+Inf/);
  assert.match(tooLittleTraffic({ samples: [sample(50)], warnings: ['partial'] }, rule) ?? '', /^Datadog returned warnings for the traffic query: partial$/);
  assert.equal(
    tooLittleTraffic({ samples: [sample(9)], warnings: [] }, rule),
    'too little traffic: 9 < 10 requests in the last 30s (the value 0.01 would pass < 0.05)',
  );
  assert.equal(tooLittleTraffic({ samples: [sample(10)], warnings: [] }, rule), undefined);
});
