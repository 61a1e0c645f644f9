// domain/statistics/rank-test.ts against R's wilcox.test(x, y, conf.int = TRUE, exact = FALSE):
// seeded random samples of 5 to 200 values (rounded, so with ties), shifted, one with a
// handful of distinct values only, and the edges where R returns an end of the range.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rankTest } from '../../domain/statistics/rank-test';
import { random } from '../support/random';
import { rEvaluate, rNumbers, rVector } from '../support/r-oracle';

interface Case {
  name: string;
  x: number[];
  y: number[];
  confLevel: number;
}

const rng = random(20240611);
/** ~1..100: a skewed sample (a latency-like shape), rounded to `digits` decimals. */
const sample = (n: number, scale: number, shift: number, digits: number) =>
  Array.from({ length: n }, () => {
    const v = shift + scale * -Math.log(1 - rng.uniform()) + rng.between(1, 3);
    return Math.round(v * 10 ** digits) / 10 ** digits;
  });
const size = () => Math.floor(rng.between(5, 201));

const cases: Case[] = [];
for (let i = 0; i < 30; i++) {
  const digits = i % 3; // 0 decimals: many ties; 2: few
  const shift = i % 4 === 0 ? 0 : rng.between(-5, 20);
  cases.push({
    name: `random ${i}: ${digits} decimals, shift ${shift.toFixed(1)}`,
    x: sample(size(), rng.between(2, 15), shift, digits),
    y: sample(size(), rng.between(2, 15), 0, digits),
    confLevel: i % 5 === 0 ? 0.9 : 0.95,
  });
}
cases.push(
  {
    name: 'many ties: 150 and 130 values among five',
    x: Array.from({ length: 150 }, () => Math.floor(rng.between(1, 6))),
    y: Array.from({ length: 130 }, () => Math.floor(rng.between(2, 7))),
    confLevel: 0.95,
  },
  {
    name: "R's own edge: one value against 59 (the interval ends at the range's ends)",
    x: [1],
    y: Array.from({ length: 59 }, (_, i) => i + 2),
    confLevel: 0.95,
  },
  { name: 'complete separation: every x above every y', x: [11, 12, 13, 14, 15, 16], y: [1, 2, 3, 4, 5], confLevel: 0.95 },
  { name: 'two small samples, identical', x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5], confLevel: 0.99 },
);

let oracle: number[][];
let worstEnd = 0;
after(() => console.log(`rank test: interval ends within ${worstEnd.toExponential(1)} of R's over ${cases.length} cases`));
before(async () => {
  oracle = await rNumbers(
    cases.map(
      (c) =>
        `r <- wilcox.test(${rVector(c.x)}, ${rVector(c.y)}, conf.int = TRUE, exact = FALSE, conf.level = ${c.confLevel}); c(r$statistic, r$p.value, r$conf.int, r$estimate)`,
    ),
  );
});

/** The middle pairwise difference(s) x_i - y_j: where the Hodges–Lehmann median lies. */
function middleDifferences(x: number[], y: number[]): [number, number] {
  const d = x.flatMap((a) => y.map((b) => a - b)).sort((a, b) => a - b);
  return [d[Math.floor((d.length - 1) / 2)]!, d[Math.ceil((d.length - 1) / 2)]!];
}

describe('rank test against R wilcox.test(x, y, conf.int = TRUE, exact = FALSE)', () => {
  cases.forEach((c, i) => {
    test(`${c.name} (n = ${c.x.length}, ${c.y.length})`, () => {
      const [w, p, lower, upper, estimate] = oracle[i]!;
      const ours = rankTest(c.x, c.y, c.confLevel);
      assert.equal(ours.w, w, 'W');
      assert.ok(Math.abs(ours.pValue - p!) <= 1e-9 * p!, `p-value ${ours.pValue}, R ${p}`);
      // R's ends come from uniroot(tol = 1e-4); ours are the jumps it converges to.
      worstEnd = Math.max(worstEnd, Math.abs(ours.interval[0] - lower!), Math.abs(ours.interval[1] - upper!));
      assert.ok(Math.abs(ours.interval[0] - lower!) < 1e-3, `lower end ${ours.interval[0]}, R ${lower}`);
      assert.ok(Math.abs(ours.interval[1] - upper!) < 1e-3, `upper end ${ours.interval[1]}, R ${upper}`);
      // R's estimate is uniroot's point somewhere in the flat stretch between the middle differences.
      const [lo, hi] = middleDifferences(c.x, c.y);
      assert.equal(ours.estimate, (lo + hi) / 2);
      assert.ok(estimate! >= lo - 1e-3 && estimate! <= hi + 1e-3, `R's estimate ${estimate} outside [${lo}, ${hi}]`);
      assert.deepEqual(ours.n, [c.x.length, c.y.length]);
    });
  });
});

describe('rank test: what it refuses', () => {
  test('an empty sample, a value that is not finite, a level outside (0, 1): RangeError naming it', () => {
    assert.throws(() => rankTest([], [1, 2]), { name: 'RangeError', message: 'rank test: x is empty' });
    assert.throws(() => rankTest([1, 2], []), { name: 'RangeError', message: 'rank test: y is empty' });
    assert.throws(() => rankTest([1, NaN], [1, 2]), { name: 'RangeError', message: 'rank test: x[1] is NaN, not a finite number' });
    assert.throws(() => rankTest([1, 2], [Infinity]), { name: 'RangeError', message: 'rank test: y[0] is Infinity, not a finite number' });
    assert.throws(() => rankTest([1, 2], [3], 1), { name: 'RangeError', message: 'rank test: confidence level 1 is not between 0 and 1' });
  });

  test('every value tied: RangeError, where R stops too (its statistic is 0/0)', async () => {
    assert.throws(() => rankTest([3, 3, 3], [3, 3]), {
      name: 'RangeError',
      message: 'rank test: all 5 values are tied (3), so the rank statistic has no variance',
    });
    const [r] = await rEvaluate(['wilcox.test(c(3, 3, 3), c(3, 3), conf.int = TRUE, exact = FALSE)$p.value']);
    assert.ok(r && 'error' in r, `R answered ${JSON.stringify(r)}`);
  });
});
