// The plan document as users write it (YAML or JSON). Strict objects everywhere: an
// unknown key is almost always a typo or a secret pasted inline, and both must be refused.
import { z } from 'zod';
import {
  DURATION_BOUNDS,
  duration,
  envName,
  httpUrl,
  MAX_REGIONS,
  DEFAULT_SOAK,
  DEFAULT_CHECK_INTERVAL,
  DEFAULT_REMIND_EVERY,
  DEFAULT_ESCALATE_AFTER,
  ianaTimezone,
  isoDateText,
} from './schema-primitives';
import { argv, deployerSchema } from './deployer-schemas';
import { readDuration } from '../domain/duration';
export * from './schema-primitives';
export * from './deployer-schemas';

export const ownerSchema = z.strictObject({
  // Bounded like service: the team is the MrcdOwner search attribute, and a keyword past the
  // server's size limit would fail the start or every workflow task instead of refusing the plan.
  team: z
    .string()
    .min(1, 'must name the owning team')
    .max(63, 'must be at most 63 characters: the team is a search attribute (MrcdOwner, what mrcd list --owner matches)'),
  contact: z.string().min(1, 'must say how to reach the owner (channel, e-mail or pager)'),
  runbook: httpUrl.optional(),
});

export const prometheusSourceSchema = z.strictObject({
  type: z.literal('prometheus'),
  /** PromQL; {{service}} {{region}} {{version}} {{window}} are filled in, escaped. */
  query: z.string().min(1),
  /** Overrides the plan's `prometheus.url`. */
  url: httpUrl.optional(),
  /**
   * The worker's environment variable holding this Prometheus' bearer token. Without it, the
   * plan's `prometheus.tokenEnv` applies when the check's URL has the plan URL's origin.
   */
  tokenEnv: envName.optional(),
});

export const httpJsonSourceSchema = z.strictObject({
  type: z.literal('http'),
  /** {{service}} {{region}} {{version}} are filled in, URL-encoded. */
  url: z.string().min(1),
  /** Dotted path to a number in the JSON response, e.g. "data.errorRatio". */
  path: z.string().min(1),
  tokenEnv: envName.optional(),
});

const regionName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a region name: lowercase letters, digits and dashes (max 63)');
/** A PromQL counting template for a comparison: by region, never by version (the control runs another one). */
const countQuery = z
  .string()
  .min(1)
  .refine((q) => !q.includes('{{version}}'), {
    message: 'must not use {{version}}: a comparison counts by region ({{region}} is the soaking region or its control, which runs another version)',
  })
  .refine((q) => q.includes('{{region}}'), { message: 'must select by {{region}}: the same query counts the soaking region and its control' })
  .refine((q) => q.includes('{{window}}'), { message: 'must count over {{window}}, e.g. sum(increase(requests_total{region="{{region}}"}[{{window}}]))' });

/**
 * A statistical comparison (docs/comparisons.md): the soaking region against a control
 * region still on the old version, relative to both regions' pre-deploy window. The check's
 * `threshold` is the error-rate ratio to detect (e.g. 1.5) and its comparator `<`.
 */
export const comparisonSourceSchema = z.strictObject({
  type: z.literal('comparison'),
  /** Failed requests of {{region}} over {{window}}. */
  errors: countQuery,
  /** All requests of {{region}} over {{window}}. */
  requests: countQuery,
  /**
   * The region(s) to compare with: one name, a list (the first one still on the old version
   * with enough traffic), or `auto` (the regions after this one in the plan, in order).
   */
  control: z.union([z.literal('auto'), regionName, z.array(regionName).min(1)]).default('auto'),
  /** Both regions' window before the deploy that sets their normal relationship. */
  before: duration(DURATION_BOUNDS.comparisonBefore).default('1h'),
  /** How often the counts are cut into intervals; defaults to the region's checkInterval. */
  step: duration(DURATION_BOUNDS.comparisonStep).optional(),
  /** The false-alarm rate the sequential test keeps to, however often it is checked. */
  alpha: z.number().gt(0).max(0.2, 'must be at most 0.2: a gate that rolls back a good version one time in five is noise').default(0.05),
  /** The chance to detect a regression of the threshold's size before a pass; 1 - power bounds a false pass. */
  power: z.number().min(0.5, 'must be at least 0.5: a pass that misses the regression more often than not is no evidence').lt(1).default(0.8),
  /**
   * Also compare a latency (a quantile of {{region}} over {{window}}, one value): its ratio to
   * the control's, now against before the deploy, by a rank test (docs/comparisons.md).
   */
  latency: z
    .strictObject({
      query: z
        .string()
        .min(1)
        .refine((q) => !q.includes('{{version}}'), { message: 'must not use {{version}}: a comparison selects by region' })
        .refine((q) => q.includes('{{region}}') && q.includes('{{window}}'), {
          message: 'must select by {{region}} over {{window}}, e.g. histogram_quantile(0.99, sum by (le) (rate(x_bucket{region="{{region}}"}[{{window}}])))',
        }),
      /** The latency ratio that counts as a regression, e.g. 1.2. */
      threshold: z.number().gt(1, 'must be more than 1: the latency ratio to the control that counts as a regression').default(1.2),
    })
    .optional(),
  /** The label naming the version on the counted series: how a control deployed meanwhile is seen. */
  versionLabel: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name')
    .default('version'),
  /** Overrides the plan's `prometheus.url`. */
  url: httpUrl.optional(),
  tokenEnv: envName.optional(),
});

export const sourceSchema = z.discriminatedUnion('type', [prometheusSourceSchema, httpJsonSourceSchema, comparisonSourceSchema]);

/**
 * Compares the value with the region's own value before the deploy (the same query at
 * the deploy time). A regression counts only when it is worse than the baseline by more
 * than `maxRatio` AND by more than `minDelta`: minDelta keeps noise around a near-zero
 * baseline (one error after none) from failing, maxRatio the proportional noise of a large
 * value (a latency of seconds).
 */
export const baselineSchema = z.strictObject({
  maxRatio: z.number().min(1, 'must be at least 1: below 1, a version exactly as good as the previous one would fail').default(1.5),
  minDelta: z.number().min(0, 'must be 0 or more (an absolute difference in the unit of the query)').default(0),
});

export const checkSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-_.]*$/i, 'must be a short identifier'),
    source: sourceSchema,
    comparator: z.enum(['<', '<=', '>', '>=']),
    threshold: z.number().refine(Number.isFinite, 'must be a finite number'),
    /** Evidence guard: a second query counting requests in the window; fewer is inconclusive. */
    minTraffic: z
      .strictObject({
        query: z.string().min(1),
        min: z.number().int().positive(),
      })
      .optional(),
    baseline: baselineSchema.optional(),
    /** Evaluated and recorded, never acted on: how a team learns to trust a check before it gates. */
    shadow: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.source.type === 'comparison') {
      if (c.comparator !== '<' && c.comparator !== '<=')
        ctx.addIssue({
          code: 'custom',
          path: ['comparator'],
          message: "must be '<' for a comparison: the threshold is the error-rate ratio to the control that counts as a regression",
        });
      if (!(c.threshold > 1))
        ctx.addIssue({
          code: 'custom',
          path: ['threshold'],
          message: 'must be more than 1 for a comparison: it is the ratio to detect (e.g. 1.5: errors 1.5× what the control says they should be)',
        });
      for (const field of ['baseline', 'minTraffic'] as const)
        if (c[field])
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `a comparison has no ${field}: it compares with its control and the pre-deploy window itself, and its test needs no traffic floor (too little traffic is never a pass)`,
          });
      return;
    }
    // Here rather than in lint: lint only sees the gates regions use, and a check's own
    // path is where the fix goes.
    if (c.baseline && c.source.type !== 'prometheus') {
      ctx.addIssue({
        code: 'custom',
        path: ['baseline'],
        message: `only prometheus sources support a baseline (it re-runs the query at the deploy time); this check's source is ${c.source.type}`,
      });
    }
    // Refused rather than ignored: a guard the provider never applies would let a check
    // pass or fail on a handful of requests while the plan says it cannot.
    if (c.minTraffic && c.source.type !== 'prometheus') {
      ctx.addIssue({
        code: 'custom',
        path: ['minTraffic'],
        message: `minTraffic needs a prometheus source (a traffic query); the ${c.source.type} provider has no traffic figure`,
      });
    }
  });

export const gateSchema = z.strictObject({
  checks: z
    .array(checkSchema)
    .min(1, 'a gate needs at least one check: a gate with no evidence never passes')
    .refine((checks) => checks.some((c) => !c.shadow), {
      message: 'a gate needs at least one check that is not shadow: shadow verdicts are never acted on, so such a gate never passes',
    }),
  /** Consecutive inconclusive/error watch results tolerated before the rollout halts. */
  maxInconclusive: z.number().int().min(0).default(3),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');
const day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export const windowSchema = z.strictObject({
  timezone: ianaTimezone,
  allow: z.array(z.strictObject({ days: z.array(day).min(1), start: hhmm, end: hhmm })).min(1, 'a window needs at least one allowed period'),
  blackout: z.array(isoDateText).default([]),
});

export const regionSchema = z
  .strictObject({
    // Bounded like service: the current region is a search attribute, and a keyword past the
    // server's size limit would fail every workflow task of the rollout instead of refusing the plan.
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (max 63)'),
    /** Customers or traffic share; regions must go smallest first. */
    size: z.number().positive('must be > 0'),
    /** A duration, or `auto`: from `minSoak` until a comparison check decides, up to `maxSoak`. */
    soak: z.union([z.literal('auto'), duration(DURATION_BOUNDS.soak)]).optional(),
    /** With `soak: auto`, the shortest soak (default 10m): a region is watched at least this long whatever the evidence. */
    minSoak: duration(DURATION_BOUNDS.soak).optional(),
    /** Why this region soaks outside 30–60 minutes (lint `soak-length`). */
    soakReason: z.string().min(1).optional(),
    /** Upper bound when too little traffic extends the soak. Defaults to 2 × soak. */
    maxSoak: duration(DURATION_BOUNDS.maxSoak).optional(),
    checkInterval: duration(DURATION_BOUNDS.checkInterval).optional(),
    /** Why this region breaks the smallest-first order (lint `region-order`). */
    orderReason: z.string().min(1).optional(),
    approval: z.enum(['none', 'required']).default('none'),
    gate: gateSchema.optional(),
    window: windowSchema.optional(),
    /**
     * The task queue of a worker inside the region: its deploys, rollbacks, reads of what it
     * runs and SLO checks run there, with that worker's credentials only (docs/operations.md,
     * "Region-local workers"). Absent: the rollout's own task queue.
     */
    taskQueue: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, 'must be a task queue name: letters, digits and . _ : / - (max 200), no spaces')
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.soak === 'auto' && r.maxSoak === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['maxSoak'],
        message: 'soak auto needs maxSoak: how long the region may soak before the rollout halts for too little evidence',
      });
    if (r.minSoak !== undefined && r.soak !== 'auto')
      ctx.addIssue({ code: 'custom', path: ['minSoak'], message: 'minSoak is for soak: auto; a fixed soak is its own minimum' });
  });

export const migrationStepSchema = z.strictObject({
  /** argv run by the migration activity, without a shell. */
  run: argv,
});

export const migrationSchema = z.strictObject({
  name: z.string().min(1),
  phase: z.enum(['expand', 'contract']),
  apply: migrationStepSchema,
  revert: migrationStepSchema.optional(),
  irreversible: z.strictObject({ reason: z.string().min(10, 'say why (10+ characters)') }).optional(),
  /** Names of worker environment variables (database credentials …) passed to the steps. */
  passEnv: z.array(envName).default([]),
  /** Per step (apply or revert), per attempt; long by default because backfills are. */
  timeout: duration(DURATION_BOUNDS.migrationTimeout).default('30m'),
});

export const notificationSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), urlEnv: envName }),
  z.strictObject({ type: z.literal('webhook'), url: httpUrl, secretEnv: envName.optional() }),
]);

/** Stale-hold reminders: a held rollout is nobody's until its owner hears about it again. */
export const remindersSchema = z
  .strictObject({
    remindEvery: duration(DURATION_BOUNDS.remindEvery).default(DEFAULT_REMIND_EVERY),
    escalateAfter: duration(DURATION_BOUNDS.escalateAfter).default(DEFAULT_ESCALATE_AFTER),
    /** Who else hears when a hold outlasts escalateAfter (the plan's notifications hear too). */
    escalateTo: z.array(notificationSchema).default([]),
  })
  .superRefine((r, ctx) => {
    const every = readDuration(r.remindEvery);
    const after = readDuration(r.escalateAfter);
    if (every !== undefined && after !== undefined && after < every)
      ctx.addIssue({
        code: 'custom',
        path: ['escalateAfter'],
        message: `must be at least remindEvery (${r.remindEvery}): the escalation comes with a reminder`,
      });
  });

export const planSchema = z.strictObject({
  apiVersion: z.literal('mrcd/v1').default('mrcd/v1'),
  service: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (max 63)'),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/, 'must be a version string such as "1.4.2"'),
  owner: ownerSchema,
  deployer: deployerSchema,
  prometheus: z.strictObject({ url: httpUrl, tokenEnv: envName.optional() }).optional(),
  defaults: z
    .strictObject({
      soak: duration(DURATION_BOUNDS.soak).default(DEFAULT_SOAK),
      /** Why every region soaks outside 30–60 minutes (lint `soak-length`). */
      soakReason: z.string().min(1).optional(),
      checkInterval: duration(DURATION_BOUNDS.checkInterval).default(DEFAULT_CHECK_INTERVAL),
      gate: gateSchema.optional(),
    })
    .default({ soak: DEFAULT_SOAK, checkInterval: DEFAULT_CHECK_INTERVAL }),
  failurePolicy: z.enum(['halt', 'rollback-all']).default('halt'),
  regions: z
    .array(regionSchema)
    .min(1, 'a plan needs at least one region')
    .max(MAX_REGIONS, `at most ${MAX_REGIONS} regions: split a longer list into rollouts of its own (one rollout over more would run for weeks)`),
  /** Why the plan has more than two regions (lint `region-count`). */
  growthReason: z.string().min(1).optional(),
  migrations: z.array(migrationSchema).default([]),
  notifications: z.array(notificationSchema).default([]),
  reminders: remindersSchema.default({ remindEvery: DEFAULT_REMIND_EVERY, escalateAfter: DEFAULT_ESCALATE_AFTER, escalateTo: [] }),
});

/** The plan as written (before defaults). */
export type PlanDocument = z.input<typeof planSchema>;
/** The plan after schema defaults, before normalization. */
export type ParsedPlan = z.output<typeof planSchema>;
export type Check = z.output<typeof checkSchema>;
export type Baseline = z.output<typeof baselineSchema>;
export type Gate = z.output<typeof gateSchema>;
export type Deployer = z.output<typeof deployerSchema>;
export type DeployWindow = z.output<typeof windowSchema>;
export type Migration = z.output<typeof migrationSchema>;
export type MigrationStep = z.output<typeof migrationStepSchema>;
export type Notification = z.output<typeof notificationSchema>;
export type Owner = z.output<typeof ownerSchema>;
