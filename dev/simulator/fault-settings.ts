// The faults a region can be given, and the check of a request to set them: each with a
// message naming the field, since callers send them as JSON.
import { HttpError } from './http';

export interface Faults {
  latencyMs?: number;
  /** 0..1; spread evenly over calls (0.5 fails every second call) so tests are repeatable. */
  errorRate5xx?: number;
  status429?: { retryAfterSeconds: number; count: number };
  /** The next `count` deploy/rollback calls answer `status` (400..499): a deploy API refusing the request. */
  status4xx?: { status: number; count: number };
  hang?: boolean;
  /**
   * The next `count` deploy/rollback calls are carried out (the operation starts, or is found
   * by its key) but never answered: the response is lost, and only the caller's timeout ends
   * the call. What a retry then sends must not start a second operation.
   */
  hangAfterAccept?: { count: number };
  drop?: boolean;
  metricsOutage?: boolean;
  partialDeploy?: boolean;
  /**
   * Rollback operations accepted while set end `failed`: all of them (true), or the next
   * `times` (a rollback that fails a few times and then works). Calls that replay an
   * operation by its idempotency key get its fate back and use up nothing.
   */
  failRollback?: boolean | { times: number };
  /** Deploys report success and change nothing: the lie a reused idempotency key tells. */
  ghostDeploy?: boolean;
  /**
   * A rollback means "the revision before the current one", whatever version it names, as
   * `kubectl rollout undo` and `helm rollback <release>` do: run twice, it puts back the
   * version the first run removed.
   */
  undoRollback?: boolean;
}

const FAULT_KEYS = [
  'latencyMs',
  'errorRate5xx',
  'status429',
  'status4xx',
  'hang',
  'hangAfterAccept',
  'drop',
  'metricsOutage',
  'partialDeploy',
  'failRollback',
  'ghostDeploy',
  'undoRollback',
] as const satisfies readonly (keyof Faults)[];

/** Checks what a caller sent (a POST body, or setFaults' argument); `region` is not a fault and is skipped. */
export function validateFaults(input: Record<string, unknown>): Faults {
  const out: Faults = {};
  for (const [k, v] of Object.entries(input)) {
    if (k === 'region') continue;
    if (v === undefined) continue;
    switch (k) {
      case 'latencyMs':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new HttpError(400, 'field "latencyMs" must be a number >= 0');
        out.latencyMs = v;
        break;
      case 'errorRate5xx':
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new HttpError(400, 'field "errorRate5xx" must be a number in 0..1');
        out.errorRate5xx = v;
        break;
      case 'status429': {
        const o = objectOf(k, v, ['retryAfterSeconds', 'count'], 'an object {retryAfterSeconds, count}');
        if (typeof o.retryAfterSeconds !== 'number' || !Number.isFinite(o.retryAfterSeconds) || o.retryAfterSeconds < 0) {
          throw new HttpError(400, 'field "status429.retryAfterSeconds" must be a number >= 0');
        }
        out.status429 = { retryAfterSeconds: o.retryAfterSeconds, count: integerAtLeast('status429.count', o.count, 0) };
        break;
      }
      case 'status4xx': {
        const o = objectOf(k, v, ['status', 'count'], 'an object {status, count}');
        if (typeof o.status !== 'number' || !Number.isInteger(o.status) || o.status < 400 || o.status > 499) {
          throw new HttpError(400, 'field "status4xx.status" must be an integer HTTP status in 400..499');
        }
        out.status4xx = { status: o.status, count: integerAtLeast('status4xx.count', o.count, 0) };
        break;
      }
      case 'hangAfterAccept':
        out.hangAfterAccept = { count: integerAtLeast('hangAfterAccept.count', objectOf(k, v, ['count'], 'an object {count}').count, 0) };
        break;
      case 'failRollback':
        out.failRollback =
          typeof v === 'boolean' ? v : { times: integerAtLeast('failRollback.times', objectOf(k, v, ['times'], 'a boolean or an object {times}').times, 1) };
        break;
      case 'hang':
      case 'drop':
      case 'metricsOutage':
      case 'partialDeploy':
      case 'ghostDeploy':
      case 'undoRollback':
        if (typeof v !== 'boolean') throw new HttpError(400, `field "${k}" must be a boolean`);
        out[k] = v;
        break;
      default:
        throw new HttpError(400, `unknown fault "${k}" (known: ${FAULT_KEYS.join(', ')})`);
    }
  }
  return out;
}

/** `v` as an object with no field but `known` (a missing one is for the field's own check to refuse). */
function objectOf(field: string, v: unknown, known: readonly string[], shape: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, `field "${field}" must be ${shape}`);
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw new HttpError(400, `unknown field "${field}.${key}" (known: ${known.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

function integerAtLeast(path: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new HttpError(400, `field "${path}" must be an integer >= ${min}`);
  return v;
}
