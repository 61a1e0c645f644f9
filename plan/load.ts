import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Parser, parseDocument, YAMLError } from 'yaml';
import { PlanError, parsePlan } from './validate';
import type { NormalizedPlan } from './normalize';

/**
 * Deeper YAML than this is refused before it is composed. A plan nests about 8 levels
 * (regions[].window.allow[].days[]). yaml composes recursively: a 10 KB line of `[`
 * overflows the stack, and a second overflow in the same process crashed node outright
 * ("RegExpCompiler Allocation failed - process out of memory"; found by
 * test/unit/plan-fuzz.test.ts, kept in test/fixtures/fuzz-corpus/). The depth is measured on
 * yaml's CST first, walked without recursion; its parser recurses only while closing many
 * block levels at once (`- - - … 1` then a dedent), and an overflow there is an answer too.
 */
export const MAX_YAML_DEPTH = 64;

interface CstNode {
  type?: string;
  offset?: number;
  value?: unknown;
  items?: { key?: unknown; value?: unknown }[];
}

/** Where the text first nests deeper than MAX_YAML_DEPTH (`line` when known), or undefined. */
function tooDeep(text: string): { line?: number } | undefined {
  try {
    for (const token of new Parser().parse(text)) {
      const stack: [CstNode, number][] = [[token as CstNode, 0]];
      while (stack.length) {
        const [node, depth] = stack.pop()!;
        if (depth > MAX_YAML_DEPTH) return { line: text.slice(0, node.offset ?? 0).split('\n').length };
        const kids = node.type === 'document' ? [node.value] : (node.items ?? []).flatMap((i) => [i.key, i.value]);
        for (const k of kids) if (k && typeof k === 'object') stack.push([k as CstNode, node.type === 'document' ? depth : depth + 1]);
      }
    }
  } catch (e) {
    if (e instanceof RangeError) return {};
    throw e;
  }
  return undefined;
}

/** Reads a YAML or JSON plan document from text. Syntax errors become a PlanError with a line. */
export function parsePlanText(text: string, source: string): unknown {
  const isJson = extname(source).toLowerCase() === '.json';
  const deep = isJson ? undefined : tooDeep(text);
  if (deep) {
    const path = deep.line !== undefined ? `line ${deep.line}` : '(syntax)';
    throw new PlanError([{ id: 'syntax', severity: 'error', path, message: `nested deeper than ${MAX_YAML_DEPTH} levels (a plan nests about 8)` }], source);
  }
  try {
    if (isJson) return JSON.parse(text);
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    // A warning is refused like an error: a plan has no tags, and yaml would otherwise print
    // an unresolved `!<tag:x>` to stderr and go on with the bare string.
    const first = doc.errors[0] ?? doc.warnings[0];
    if (first) throw first;
    return doc.toJS();
  } catch (e) {
    const where = e instanceof YAMLError && e.linePos ? `line ${e.linePos[0].line}` : '(syntax)';
    throw new PlanError([{ id: 'syntax', severity: 'error', path: where, message: (e as Error).message.split('\n')[0]! }], source);
  }
}

/** Loads, validates and normalizes a plan file. Throws a PlanError naming every problem. */
export function loadPlanFile(file: string): NormalizedPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlanError(
      [{ id: 'file', severity: 'error', path: '(file)', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }],
      file,
    );
  }
  return parsePlan(parsePlanText(text, file), file);
}

/** Loads a plan file without normalizing: the document as written, for starting a workflow. */
export function loadPlanDocument(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  return parsePlanText(text, file);
}
