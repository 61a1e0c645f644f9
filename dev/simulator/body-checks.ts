// Field checks for the numeric /_sim bodies (traffic profiles, incidents, bad-version
// factors): each refusal is a 400 naming the field's path and what it must be, in the
// style of fault-settings.ts, since callers write these bodies by hand.
import { HttpError } from './http';

/**
 * `v` as a finite number that `ok` accepts, else a 400 naming `path` and `shape` (what it
 * must be, e.g. "a number in 0..1"). Non-finite numbers never pass: JSON cannot carry them,
 * and a programmatic caller passing NaN has a bug.
 */
export function numberField(path: string, v: unknown, ok: (n: number) => boolean, shape: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new HttpError(400, `field "${path}" must be ${shape}`);
  return v;
}

/** Like numberField, but undefined when the field is absent (or null). */
export function optionalNumberField(path: string, v: unknown, ok: (n: number) => boolean, shape: string): number | undefined {
  return v === undefined || v === null ? undefined : numberField(path, v, ok, shape);
}

/** `v` as an object with no field but `known`; `path` is '' for a whole body. */
export function objectField(path: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new HttpError(400, `field "${path}" must be an object {${known.join(', ')}}`);
  }
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) {
      throw new HttpError(400, `unknown field "${path === '' ? key : `${path}.${key}`}" (known: ${known.join(', ')})`);
    }
  }
  return v as Record<string, unknown>;
}
