// Property-based fuzzing of plan loading (issue 13 item 4): whatever text or document
// arrives, parsePlanText and validatePlan answer with problems, never with an exception
// other than the PlanError that names them; every problem has an id, a severity, a path (the
// root is "(plan)", an unreadable text "line N" or "(syntax)") and a message; a valid
// plan is the same plan after the trip through JSON that the workflow's input takes. A
// bounded number of runs goes through the real `mrcd validate --json` too.
//
// Reproducing a failure: fast-check prints the seed and the shrunk input, e.g.
// "seed: 1234, path: 7:2". Run this file again with them:
//   FC_SEED=1234 FC_PATH=7:2 node --import tsx --test test/unit/plan-fuzz.test.ts
// FC_RUNS=5000 runs more. A counterexample that was a real bug goes, once fixed, into
// test/fixtures/fuzz-corpus/ (replayed by the last tests here, and in every run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { parsePlanText, PlanError, validatePlan, type PlanProblem } from '../../plan';
import { payloadProblem } from '../../domain/state';

const ROOT = resolve(__dirname, '../..');
const CORPUS = join(ROOT, 'test/fixtures/fuzz-corpus');

/** fast-check's parameters: FC_SEED / FC_PATH replay a reported failure, FC_RUNS scales the runs. */
function params(numRuns: number): fc.Parameters<unknown> {
  const runs = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : numRuns;
  return {
    numRuns: runs,
    // The failing assertion's message in the report, next to the shrunk input.
    includeErrorInReport: true,
    ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
  };
}

/** A plan nothing is wrong with (and no lint warns about): the start of every mutation. */
function validDoc(): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:1', timeout: '5m' },
    prometheus: { url: 'http://127.0.0.1:9090' },
    notifications: [{ type: 'webhook', url: 'https://hooks.example.com/payments' }],
    defaults: {
      soak: '30m',
      checkInterval: '30s',
      gate: {
        checks: [
          { name: 'errors', source: { type: 'prometheus', query: 'ratio{region="{{region}}"}' }, comparator: '<', threshold: 0.01, baseline: { maxRatio: 2 } },
        ],
        maxInconclusive: 3,
      },
    },
    regions: [
      { name: 'eu', size: 1, approval: 'required', window: { timezone: 'Europe/Dublin', allow: [{ days: ['mon', 'tue'], start: '09:00', end: '17:00' }] } },
      { name: 'us', size: 10, soak: '45m', maxSoak: '1h' },
    ],
    migrations: [{ name: 'add-col', phase: 'expand', apply: { run: ['./migrate', 'up'] }, revert: { run: ['./migrate', 'down'] } }],
    reminders: { remindEvery: '1h', escalateAfter: '4h' },
  };
}

// ---------------------------------------------------------------------------------------
// What every answer must look like.

function assertProblem(p: PlanProblem, where: string): void {
  assert.equal(typeof p.id, 'string', `${where}: id`);
  assert.ok(p.id.length > 0, `${where}: empty id`);
  assert.ok(p.severity === 'error' || p.severity === 'warning', `${where}: severity ${String(p.severity)}`);
  assert.equal(typeof p.path, 'string', `${where}: path`);
  assert.match(p.path, /\S/, `${where}: empty path (the root is "(plan)")`);
  assert.equal(typeof p.message, 'string', `${where}: message`);
  assert.match(p.message, /\S/, `${where}: empty message at ${p.path}`);
}

/** Validates a document as the CLI and the workflow do; asserts the shape of the answer. Returns whether it is valid. */
function judgeDoc(doc: unknown): boolean {
  const r = validatePlan(doc); // must not throw, whatever doc is
  if (!r.ok) {
    assert.ok(r.problems.length >= 1, 'an invalid plan names at least one problem');
    assert.ok(
      r.problems.some((p) => p.severity === 'error'),
      'an invalid plan has an error',
    );
    r.problems.forEach((p, i) => assertProblem(p, `problems[${i}]`));
    return false;
  }
  r.warnings.forEach((p, i) => assertProblem(p, `warnings[${i}]`));
  assert.ok(
    r.warnings.every((p) => p.severity === 'warning'),
    'an accepted plan carries warnings only',
  );
  // The workflow's input is the document after JSON (Temporal's payload converter), and its
  // first activity validates it again: it must be the same plan there, and plain JSON itself.
  const travelled = JSON.parse(JSON.stringify(doc)) as unknown;
  const again = validatePlan(travelled);
  assert.ok(again.ok, `valid here, refused after JSON: ${JSON.stringify(!again.ok && again.problems)}`);
  assert.equal(JSON.stringify(again.plan), JSON.stringify(r.plan), 'the same plan after JSON');
  assert.deepEqual(JSON.parse(JSON.stringify(r.plan)), JSON.parse(JSON.stringify(again.plan)));
  return true;
}

/** Loads text as a plan file named `source` would be: a PlanError with well-formed problems, or a document judged as above. */
function judgeText(text: string, source: string): 'syntax' | 'invalid' | 'valid' {
  let doc: unknown;
  try {
    doc = parsePlanText(text, source);
  } catch (e) {
    assert.ok(e instanceof PlanError, `parsePlanText threw ${(e as Error)?.stack ?? String(e)}`);
    assert.ok(e.problems.length >= 1);
    e.problems.forEach((p, i) => assertProblem(p, `syntax problems[${i}]`));
    return 'syntax';
  }
  return judgeDoc(doc) ? 'valid' : 'invalid';
}

// ---------------------------------------------------------------------------------------
// Generators.

const unicode = fc.string({ unit: 'binary', maxLength: 40 });
const longString = fc.constantFrom(10_000, 100_000, 300_000).chain((n) => fc.constantFrom('x', 'é', '😀', '30m').map((c) => c.repeat(n)));
/** Values that have broken parsers before: number edges, number-like strings, bad durations, invisible characters. */
const edgy = fc.constantFrom<unknown>(
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  -1,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER + 2,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '1e400s',
  '9'.repeat(400) + 'd',
  '99999999999999999999d',
  '0s',
  '0.0001s',
  '-5m',
  ' 30m ',
  '\uFEFF30m',
  '30 m',
  '',
  ' ',
  '\u0000',
  '\u2028',
  '__proto__',
  'constructor',
  'toString',
  null,
  true,
  [],
  {},
  { __proto__: null },
  '2026-02-30',
  '24:00',
  'Mars/Olympus_Mons',
  'javascript:alert(1)',
);
const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: edgy },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: unicode },
  { weight: 1, arbitrary: longString },
  { weight: 1, arbitrary: fc.constantFrom(2_000, 20_000).map((n) => Array.from({ length: n }, (_, i) => ({ name: `r${i}`, size: i + 1 }))) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 50 }).map((d) => nest('30m', d)) },
);

function nest(v: unknown, depth: number): unknown {
  let out = v;
  for (let i = 0; i < depth; i++) out = i % 2 ? { a: out } : [out];
  return out;
}

type Key = string | number;
/** Every path into a document (not the root). */
function pathsOf(v: unknown, at: Key[] = [], out: Key[][] = []): Key[][] {
  if (at.length) out.push(at);
  if (at.length > 12) return out;
  if (Array.isArray(v)) v.slice(0, 50).forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) pathsOf((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

const OPS = ['delete', 'replace', 'retype', 'duplicate', 'swap-with-sibling', 'rename'] as const;
interface Mutation {
  pick: number;
  op: (typeof OPS)[number];
  value: unknown;
  name: string;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom(...OPS),
  value: weird,
  name: fc.oneof(unicode, fc.constantFrom('size', 'soak', 'name', 'gate', 'regions', '__proto__')),
});

function retype(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : [v];
  if (typeof v === 'boolean') return v ? 'yes' : 0;
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  if (v !== null && typeof v === 'object') return Object.values(v);
  return 'null';
}

/** Applies mutations to a copy of the document. */
function mutate(doc: unknown, mutations: Mutation[]): unknown {
  const d = structuredClone(doc) as Record<string, unknown>;
  for (const m of mutations) {
    const paths = pathsOf(d);
    if (!paths.length) break;
    const path = paths[m.pick % paths.length]!;
    let parent: unknown = d;
    for (const k of path.slice(0, -1)) parent = (parent as Record<Key, unknown>)[k];
    const key = path.at(-1)!;
    const p = parent as Record<Key, unknown>;
    const value = p[key];
    switch (m.op) {
      case 'delete':
        if (Array.isArray(p)) p.splice(Number(key), 1);
        else delete p[key];
        break;
      case 'replace':
        p[key] = m.value;
        break;
      case 'retype':
        p[key] = retype(value);
        break;
      case 'duplicate':
        if (Array.isArray(p)) p.splice(Number(key), 0, structuredClone(value));
        else p[`${String(key)}${m.name}`] = structuredClone(value);
        break;
      case 'swap-with-sibling': {
        const siblings = Object.keys(p);
        const other = siblings[m.pick % siblings.length]!;
        [p[key], p[other]] = [p[other], value];
        break;
      }
      case 'rename':
        if (!Array.isArray(p)) {
          delete p[key];
          Object.defineProperty(p, m.name, { value, enumerable: true, writable: true, configurable: true });
        }
        break;
    }
  }
  return d;
}

const mutatedDoc = fc.array(mutation, { minLength: 0, maxLength: 4 }).map((ms) => mutate(validDoc(), ms));

const TEXT_OPS = ['duplicate-line', 'delete-line', 'swap-lines', 'insert', 'truncate', 'deep', 'indent'] as const;
interface TextMutation {
  op: (typeof TEXT_OPS)[number];
  at: number;
  other: number;
  token: string;
  depth: number;
}
const yamlToken = fc.constantFrom(
  ':',
  ': ',
  '- ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '&a ',
  '*a',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '!!timestamp ',
  '!<tag:x> ',
  '#',
  '|',
  '>-',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '\t',
  '\n',
  '\r\n',
  '\u2028',
  '\uFEFF',
  '~',
  '.nan',
  '.inf',
  '-.inf',
  '0x1F',
  '0o17',
  '1_000',
  '1e400',
  'regions: ',
  'service: ',
  '\\',
  '\u0000',
);
const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  op: fc.constantFrom(...TEXT_OPS),
  at: fc.nat(),
  other: fc.nat(),
  token: fc.oneof(yamlToken, unicode),
  depth: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 500, max: 4000 })),
});

function mutateText(text: string, ms: TextMutation[]): string {
  let t = text;
  for (const m of ms) {
    const lines = t.split('\n');
    const i = m.at % Math.max(1, lines.length);
    const j = m.other % Math.max(1, lines.length);
    const at = m.at % (t.length + 1);
    switch (m.op) {
      case 'duplicate-line':
        lines.splice(i, 0, lines[i] ?? '');
        t = lines.join('\n');
        break;
      case 'delete-line':
        lines.splice(i, 1);
        t = lines.join('\n');
        break;
      case 'swap-lines':
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        t = lines.join('\n');
        break;
      case 'insert':
        t = t.slice(0, at) + m.token + t.slice(at);
        break;
      case 'truncate':
        t = t.slice(0, at);
        break;
      case 'deep': {
        // Deep nesting where a value goes: flow brackets, compact sequences or indentation.
        const open = ['[', '{"a":', '- '][m.other % 3]!;
        const close = [']', '}', ''][m.other % 3]!;
        t = t.slice(0, at) + open.repeat(m.depth) + '1' + close.repeat(m.depth) + t.slice(at);
        break;
      }
      case 'indent':
        lines[i] = ' '.repeat(m.depth % 100) + (lines[i] ?? '');
        t = lines.join('\n');
        break;
    }
  }
  return t;
}

/** Text that looks like YAML: tokens and words in any order. */
const yamlish = fc
  .array(fc.oneof(yamlToken, fc.constantFrom('a', 'eu', 'size', '1', '30m', ' ', '  ', '\n  '), unicode), { maxLength: 60 })
  .map((xs) => xs.join(''));
/** Text that looks like JSON: real JSON, cut and spliced. */
const jsonish = fc.tuple(fc.json({ maxDepth: 4 }), fc.array(textMutation, { maxLength: 3 })).map(([t, ms]) =>
  mutateText(
    t,
    ms.filter((m) => m.op === 'insert' || m.op === 'truncate' || m.op === 'deep'),
  ),
);

/** A serialized mutated plan: YAML or JSON text, then mutated as text. */
const mutatedText = fc.tuple(mutatedDoc, fc.constantFrom('yaml', 'json'), fc.array(textMutation, { maxLength: 3 })).map(([doc, format, ms]) => {
  const text = format === 'json' ? (JSON.stringify(doc, null, 2) ?? 'null') : toYaml(doc, { aliasDuplicateObjects: false });
  return { text: mutateText(text, ms), source: format === 'json' ? 'plan.json' : 'plan.yaml' };
});

// ---------------------------------------------------------------------------------------
// Properties.

test('the valid plan the mutations start from is valid, as YAML and as JSON (else every property below proves little)', () => {
  assert.equal(judgeText(toYaml(validDoc()), 'plan.yaml'), 'valid');
  assert.equal(judgeText(JSON.stringify(validDoc()), 'plan.json'), 'valid');
  const r = validatePlan(validDoc());
  assert.ok(r.ok && r.warnings.length === 0, JSON.stringify(r));
});

test('YAML-ish text: parsePlanText and validatePlan never throw anything but a PlanError, and every problem is well formed', () => {
  fc.assert(
    fc.property(yamlish, (text) => {
      judgeText(text, 'plan.yaml');
    }),
    params(400),
  );
});

test('JSON-ish text, read as .json and as .yaml: the same', () => {
  fc.assert(
    fc.property(jsonish, (text) => {
      judgeText(text, 'plan.json');
      judgeText(text, 'plan.yml');
    }),
    params(300),
  );
});

test('mutated plans as documents (fields deleted, retyped, duplicated, renamed; NaN, Infinity, huge numbers and strings): validatePlan answers', () => {
  const seen = { valid: 0, invalid: 0 };
  fc.assert(
    fc.property(mutatedDoc, (doc) => {
      seen[judgeDoc(doc) ? 'valid' : 'invalid']++;
    }),
    params(400),
  );
  // Both kinds must occur, or the generator has drifted away from plans.
  assert.ok(seen.valid > 0 && seen.invalid > 0, JSON.stringify(seen));
});

test('mutated plans as YAML and JSON text, cut, spliced, duplicated and nested thousands deep: the loader answers', () => {
  const seen = { syntax: 0, invalid: 0, valid: 0 };
  fc.assert(
    fc.property(mutatedText, ({ text, source }) => {
      seen[judgeText(text, source)]++;
    }),
    params(300),
  );
  assert.ok(seen.syntax > 0 && seen.invalid > 0 && seen.valid > 0, JSON.stringify(seen));
});

test('the real CLI: `mrcd validate --json` exits 0 or 2, never with a stack trace, agrees with validatePlan and prints JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-fuzz-'));
  let n = 0;
  try {
    fc.assert(
      fc.property(
        fc.oneof(
          mutatedText,
          yamlish.map((text) => ({ text, source: 'plan.yaml' })),
        ),
        ({ text, source }) => {
          const file = join(dir, `${++n}-${source}`);
          writeFileSync(file, text);
          const r = spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), 'validate', file, '--json'], { encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
          assert.equal(r.error, undefined, String(r.error));
          assert.ok(r.status === 0 || r.status === 2, `exit ${r.status} (signal ${r.signal}); stderr: ${r.stderr.slice(0, 2000)}`);
          assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$|TypeError|RangeError|ReferenceError|FATAL|Maximum call stack/m, 'a stack trace on stderr');
          const expected = judgeText(text, source);
          assert.equal(r.status, expected === 'valid' ? 0 : 2, `exit ${r.status} for a plan judged ${expected}; stderr: ${r.stderr.slice(0, 500)}`);
          if (r.status === 2) assert.match(r.stderr, /^mrcd: /, 'a refusal is one message');
          // Every answer is JSON on stdout, text that cannot be read as YAML included: CI reads it there.
          {
            const out = JSON.parse(r.stdout) as { valid: boolean; problems: PlanProblem[] };
            assert.equal(out.valid, expected === 'valid');
            assert.ok(Array.isArray(out.problems));
            out.problems.forEach((p, i) => assertProblem(p, `cli problems[${i}]`));
          }
        },
      ),
      params(12),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------
// The corpus: shrunk counterexamples of bugs fuzzing found, replayed on every run.

interface CorpusEntry {
  kind: 'plan-text' | 'payload';
  bug: string;
  /** plan-text: the text (or `repeat` of it), its file name, how often it is loaded in one process. */
  text?: string;
  repeatText?: { unit: string; times: number; prefix?: string; suffix?: string };
  source?: string;
  loads?: number;
  expect?: { result: 'syntax' | 'invalid' | 'valid'; path?: string; message?: string };
  /** payload: the payload, and what payloadProblem must say of it. */
  payload?: unknown;
  problem?: string;
}

const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, entry: JSON.parse(readFileSync(join(CORPUS, f), 'utf8')) as CorpusEntry }));

test('the fuzz corpus is not empty', () => {
  assert.ok(corpus.length > 0);
});

for (const { file, entry } of corpus) {
  test(`fuzz corpus ${file}: ${entry.bug.split('.')[0]}`, () => {
    if (entry.kind === 'plan-text') {
      const r = entry.repeatText;
      const text = entry.text ?? `${r!.prefix ?? ''}${r!.unit.repeat(r!.times)}${r!.suffix ?? ''}`;
      for (let i = 0; i < (entry.loads ?? 1); i++) {
        const got = judgeText(text, entry.source ?? 'plan.yaml');
        if (entry.expect) assert.equal(got, entry.expect.result);
      }
      if (entry.expect?.path || entry.expect?.message) {
        const problemsOf = (): PlanProblem[] => {
          try {
            const v = validatePlan(parsePlanText(text, entry.source ?? 'plan.yaml'));
            return v.ok ? v.warnings : v.problems;
          } catch (e) {
            return (e as PlanError).problems;
          }
        };
        const problems = problemsOf();
        assert.ok(
          problems.some((p) => (!entry.expect!.path || p.path === entry.expect!.path) && (!entry.expect!.message || p.message.includes(entry.expect!.message))),
          JSON.stringify(problems),
        );
      }
    } else {
      assert.equal(payloadProblem(entry.payload), entry.problem);
    }
  });
}
