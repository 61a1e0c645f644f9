// domain/statistics/normal.ts against R's pnorm and qnorm, into the far tails (|z| up to 37,
// p down to 1e-300), and the R oracle's own number passing (test/support/r-oracle.ts).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalCdf, normalQuantile } from '../../domain/statistics/normal';
import { rNumbers, rVector } from '../support/r-oracle';

const relativeError = (ours: number, theirs: number) => (ours === theirs ? 0 : Math.abs(ours - theirs) / Math.abs(theirs));

// z from -38 to 38: every 1/8 (the branch points 0.674, 5.657 and 37.519 lie between), plus
// values at and around each branch point and at the origin.
const zs = [
  ...Array.from({ length: 609 }, (_, i) => -38 + i / 8),
  ...[0.67448975, 0.6744897, 0.674489751, 5.656854249492381, 5.6568542, 5.6568543, 37.5192, 37.5193, 8.2924].flatMap((z) => [z, -z]),
  1e-20,
  -1e-20,
  1e-300,
  Math.PI,
  -Math.E,
];
// p from 1e-300 to 1 - 1e-16: every power of ten, and a spread between, plus their complements.
const small = [
  ...Array.from({ length: 300 }, (_, i) => 10 ** -(i + 1)),
  ...Array.from({ length: 97 }, (_, i) => 0.0025 + i * 0.005),
  1.234e-7,
  0.02425,
  0.024249,
  0.0242501,
  0.3,
  0.5,
  Number.MIN_VALUE * 2 ** 60,
].filter((p) => p >= 1e-300);
const ps = [...small, ...small.filter((p) => p > 1e-16).map((p) => 1 - p)];

let pnorm: number[];
let upper: number[];
let qnorm: number[];
let roundTrip: number[];
const odd = [0.1, -1 / 3, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 123456.789, -0, 2 ** 53 + 2];
before(async () => {
  [pnorm, upper, qnorm, roundTrip] = await rNumbers([
    `pnorm(${rVector(zs)})`,
    `pnorm(${rVector(zs)}, lower.tail = FALSE)`,
    `qnorm(${rVector(ps)})`,
    rVector(odd),
  ]);
});

describe('Φ against R pnorm', () => {
  test('relative error < 1e-9 from z = -38 to 38 (Φ(-37) ≈ 5.7e-300), 0 where R underflows to 0', () => {
    let worst = 0;
    zs.forEach((z, i) => {
      const err = relativeError(normalCdf(z), pnorm[i]!);
      worst = Math.max(worst, err);
      assert.ok(err < 1e-9, `Φ(${z}) = ${normalCdf(z)}, R: ${pnorm[i]}`);
    });
    console.log(`Φ: worst relative error against R ${worst.toExponential(2)} over ${zs.length} points`);
  });

  test('the upper tail: Φ(-z) is R pnorm(z, lower.tail = FALSE) to < 1e-9 relative', () => {
    zs.forEach((z, i) => assert.ok(relativeError(normalCdf(-z), upper[i]!) < 1e-9, `Φ(${-z}) = ${normalCdf(-z)}, R upper tail: ${upper[i]}`));
  });

  test('edges: NaN in, NaN out; ±Infinity give 0 and 1; 0 gives 1/2', () => {
    assert.ok(Number.isNaN(normalCdf(NaN)));
    assert.equal(normalCdf(-Infinity), 0);
    assert.equal(normalCdf(Infinity), 1);
    assert.equal(normalCdf(0), 0.5);
  });
});

describe('Φ⁻¹ against R qnorm', () => {
  test('relative error < 1e-9 from p = 1e-300 to 1 - 1e-16', () => {
    let worst = 0;
    ps.forEach((p, i) => {
      const err = relativeError(normalQuantile(p), qnorm[i]!);
      worst = Math.max(worst, err);
      assert.ok(err < 1e-9, `Φ⁻¹(${p}) = ${normalQuantile(p)}, R: ${qnorm[i]}`);
    });
    console.log(`Φ⁻¹: worst relative error against R ${worst.toExponential(2)} over ${ps.length} points`);
  });

  test('edges: 0 and 1 give ∓Infinity, outside [0, 1] and NaN give NaN', () => {
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    for (const p of [-0.1, 1.1, NaN]) assert.ok(Number.isNaN(normalQuantile(p)));
  });

  test('Φ(Φ⁻¹(p)) = p to 1e-13 relative in the lower tail', () => {
    for (const p of [1e-300, 1e-100, 1e-20, 1e-5, 0.01, 0.2, 0.5]) assert.ok(relativeError(normalCdf(normalQuantile(p)), p) < 1e-13, `p = ${p}`);
  });
});

test('the R oracle passes numbers bit for bit: hex literals in, 17 digits out', () => {
  assert.deepEqual(roundTrip, odd);
  assert.ok(Object.is(roundTrip[7], -0));
});
