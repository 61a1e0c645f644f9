import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { PlanError, parsePlan } from './validate';
import type { NormalizedPlan } from './normalize';

/** Reads a YAML or JSON plan document from text. Syntax errors become a PlanError with a line. */
export function parsePlanText(text: string, source: string): unknown {
  const isJson = extname(source).toLowerCase() === '.json';
  try {
    return isJson ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `line ${e.linePos[0].line}` : '(syntax)';
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
