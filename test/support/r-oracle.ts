// R as the numeric oracle of the statistics tests (domain/statistics/): pnorm, qnorm and
// wilcox.test are what our code must agree with. R is Debian's r-base-core: $MRCD_RSCRIPT_BIN,
// else /usr/bin/Rscript, else installed on first use with apt-get when running as root
// (scripts/provision-tools.js); otherwise a test that needs it fails with the command to run,
// never skips.
//
// An Rscript process takes ~0.1–0.2 s to start, so a test file batches all its cases into one
// program. Numbers go in as C99 hexadecimal literals (R reads 0x1.8p+3 as 12), which R reads to
// the same double bit for bit, so ties and orderings in the data are exactly ours; they come
// back with 17 significant digits, which JavaScript reads to the same double R printed. Only
// base R: jsonlite is not part of r-base-core.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tools } from './tools';

/** A number as an R literal that R reads to the same double (NaN, Inf and -0 included). */
export function rNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const sign = hi >>> 31 ? '-' : '';
  const exponent = (hi >>> 20) & 0x7ff;
  const mantissa = (hi & 0xfffff).toString(16).padStart(5, '0') + view.getUint32(4).toString(16).padStart(8, '0');
  return exponent === 0 ? `${sign}0x0.${mantissa}p-1022` : `${sign}0x1.${mantissa}p${exponent - 1023}`;
}

/** A numeric vector as an R expression: c(…). */
export const rVector = (xs: readonly number[]): string => `c(${xs.map(rNumber).join(', ')})`;

/** Runs one R program in one Rscript process (--vanilla: no site or user profile); resolves with its standard output. */
export async function runR(source: string): Promise<string> {
  const rscript = await tools.ensureRscript();
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-r-'));
  try {
    const file = join(dir, 'oracle.R');
    writeFileSync(file, source);
    const { stdout } = await promisify(execFile)(rscript.path, ['--vanilla', file], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`Rscript failed: ${err.stderr?.trim() || err.message}`, { cause: e });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads numbers as R prints them (Inf, -Inf, NaN; NA as NaN). */
function parseNumber(text: string): number {
  if (text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN' || text === 'NA') return NaN;
  const x = Number(text);
  if (Number.isNaN(x)) throw new Error(`R printed ${JSON.stringify(text)}, not a number`);
  return x;
}

/** What R made of one expression: its numbers, or the message it stopped with. */
export type RValue = { values: number[] } | { error: string };

/**
 * Evaluates R expressions, each a numeric vector, in one Rscript process; resolves with one
 * RValue per expression, in order. `prelude` is R code run first (functions the expressions use).
 */
export async function rEvaluate(expressions: readonly string[], prelude = ''): Promise<RValue[]> {
  const source = [
    prelude,
    `.out <- function(x) cat('ok', sprintf('%.17g', as.numeric(x)), '\\n')`,
    `.err <- function(e) cat('error', gsub('[\\r\\n]+', ' ', conditionMessage(e)), '\\n')`,
    ...expressions.map((e) => `tryCatch(.out({ ${e} }), error = .err)`),
  ].join('\n');
  const lines = (await runR(source)).split('\n').filter((l) => /^(ok|error)\b/.test(l));
  if (lines.length !== expressions.length) throw new Error(`R answered ${lines.length} of ${expressions.length} expressions`);
  return lines.map((line) => {
    const [kind, ...rest] = line.trim().split(/\s+/);
    return kind === 'ok' ? { values: rest.map(parseNumber) } : { error: rest.join(' ') };
  });
}

/** rEvaluate for expressions that must not fail: their numbers, or an error naming the first that did. */
export async function rNumbers(expressions: readonly string[], prelude = ''): Promise<number[][]> {
  const answers = await rEvaluate(expressions, prelude);
  return answers.map((a, i) => {
    if ('error' in a) throw new Error(`R failed on expression ${i} (${expressions[i]!.slice(0, 80)}…): ${a.error}`);
    return a.values;
  });
}
