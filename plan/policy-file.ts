// The fleet policy file (`mrcd policy apply policy.yaml`): region concurrency and the
// freezes everyone knows ahead (a holiday peak, a migration weekend). Validated here with
// every problem and its path; what it becomes is the policy workflow's apply request.
import { z } from 'zod';
import { ianaTimezone, isoDateText } from './schema-primitives';
import { WEEKLY_TIME, type ApplyRequest, type FreezeRequest } from '../domain/policy';

const name = z.string().trim().min(1, 'must be a non-empty name').max(200);
const time = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: 'must be a time such as 2026-12-24T00:00:00Z (ISO 8601 with its offset)' });
    return z.NEVER;
  }
  return t;
});

const weeklyTime = z.string().regex(WEEKLY_TIME, 'must be a day and a time such as "fri 16:00"');
const scopeSchema = z
  .object({ regions: z.array(name).min(1).optional(), services: z.array(name).min(1).optional(), teams: z.array(name).min(1).optional() })
  .strict();

const freeze = z
  .object({
    scope: scopeSchema.optional(),
    reason: z.string().trim().min(1, 'must say why').max(1024),
    from: time.optional(),
    until: time,
  })
  .strict()
  .refine((f) => f.from === undefined || f.from < f.until, { message: 'must be before until', path: ['from'] });

const calendar = z
  .object({
    name,
    reason: z.string().trim().min(1, 'must say why').max(1024),
    timezone: ianaTimezone,
    scope: scopeSchema.optional(),
    weekly: z.array(z.object({ from: weeklyTime, to: weeklyTime }).strict()).default([]),
    dates: z.array(isoDateText).default([]),
  })
  .strict()
  .refine((c) => c.weekly.length + c.dates.length > 0, { message: 'needs weekly periods or dates' });

export const policyFileSchema = z
  .object({
    concurrency: z.record(name, z.number().int('must be a whole number').min(1, 'must be at least 1')).default({}),
    freezes: z.array(freeze).default([]),
    /** Recurring freezes in a timezone of their own: weekends, holiday lists. */
    calendars: z
      .array(calendar)
      .default([])
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'calendar names must be unique'),
    /** Who may override a freeze (`by` names); absent: anyone who gives a reason. */
    overriders: z.array(name).min(1).optional(),
  })
  .strict();

export type PolicyFile = z.output<typeof policyFileSchema>;

/** Problems as `path: message`, every one of them. */
export function policyFileProblems(doc: unknown, now: number): { ok: true; file: PolicyFile } | { ok: false; problems: string[] } {
  const r = policyFileSchema.safeParse(doc ?? {});
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => `${pathOf(i.path) || '(file)'}: ${i.message}`) };
  // A freeze that has already ended in the file is a mistake (an old year left in), not a no-op.
  const stale = r.data.freezes.flatMap((f, i) => (f.until <= now ? [`freezes[${i}].until: has passed`] : []));
  return stale.length ? { ok: false, problems: stale } : { ok: true, file: r.data };
}

/** The apply request of a valid policy file, with who applies it and why. */
export function applyRequestOf(file: PolicyFile, by: string, reason: string): ApplyRequest {
  const freezes: Omit<FreezeRequest, 'by'>[] = file.freezes.map((f) => ({
    reason: f.reason,
    until: f.until,
    ...(f.scope ? { scope: f.scope } : {}),
    ...(f.from !== undefined ? { from: f.from } : {}),
  }));
  return {
    concurrency: file.concurrency,
    freezes,
    by,
    reason,
    ...(file.calendars.length ? { calendars: file.calendars.map((c) => ({ ...c, ...(c.scope ? { scope: c.scope } : {}) })) } : {}),
    ...(file.overriders ? { overriders: file.overriders } : {}),
  };
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
}
