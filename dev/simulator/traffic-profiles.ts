// Traffic profiles (POST /_sim/traffic): random, realistic traffic for a region instead of
// the fixed per-tick counts, for checks that compare regions statistically. A profile set
// for one region wins over one set for all regions; with neither, a region keeps the
// deterministic default the other tests rely on.
import { numberField, objectField, optionalNumberField } from './body-checks';
import { HttpError, requireKnownRegion } from './http';
import { Rng, streamSeed } from './random';

export interface TrafficProfile {
  /** Mean requests per tick per (service, region); each tick draws a Poisson count around it. */
  requestsPerTick: number;
  /** Base probability that a request fails (before bad-version and incident factors). */
  errorRate: number;
  /** Mean traffic × (1 + amplitude·sin(2π(t + phaseMs)/periodMs)), t since the profile was set. */
  diurnal?: { amplitude: number; periodMs: number; phaseMs?: number };
  /** Request latency ~ lognormal(medianMs, sigma), exposed as mrcd_sim_request_duration_seconds. */
  latency?: { medianMs: number; sigma: number };
  /** Seeds the region's random stream; the same seed replays the same draws. */
  seed?: number;
}

/** The seed of a profile that names none: runs stay reproducible without one. */
export const DEFAULT_SEED = 0x5eed;

const PROFILE_KEYS = ['region', 'requestsPerTick', 'errorRate', 'diurnal', 'latency', 'seed'] as const;

/** Checks a POST /_sim/traffic body; `region` is checked against the fleet by TrafficProfiles.set. */
export function validateTrafficProfile(input: unknown): TrafficProfile & { region?: string } {
  const body = objectField('', input, PROFILE_KEYS);
  const out: TrafficProfile & { region?: string } = {
    requestsPerTick: numberField('requestsPerTick', body.requestsPerTick, (n) => n >= 0, 'a number >= 0'),
    errorRate: numberField('errorRate', body.errorRate, (n) => n >= 0 && n <= 1, 'a number in 0..1'),
  };
  if (body.region !== undefined && body.region !== null) {
    if (typeof body.region !== 'string' || body.region === '') throw new HttpError(400, 'field "region" must be a non-empty string when given');
    out.region = body.region;
  }
  if (body.diurnal !== undefined && body.diurnal !== null) {
    const d = objectField('diurnal', body.diurnal, ['amplitude', 'periodMs', 'phaseMs']);
    out.diurnal = {
      // amplitude 1 would reach zero traffic at the trough; below 1 every tick has some.
      amplitude: numberField('diurnal.amplitude', d.amplitude, (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
      periodMs: numberField('diurnal.periodMs', d.periodMs, (n) => n > 0, 'a number > 0'),
    };
    const phaseMs = optionalNumberField('diurnal.phaseMs', d.phaseMs, () => true, 'a finite number');
    if (phaseMs !== undefined) out.diurnal.phaseMs = phaseMs;
  }
  if (body.latency !== undefined && body.latency !== null) {
    const l = objectField('latency', body.latency, ['medianMs', 'sigma']);
    out.latency = {
      medianMs: numberField('latency.medianMs', l.medianMs, (n) => n > 0, 'a number > 0'),
      sigma: numberField('latency.sigma', l.sigma, (n) => n >= 0, 'a number >= 0'),
    };
  }
  const seed = optionalNumberField('seed', body.seed, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'an integer in 0..4294967295');
  if (seed !== undefined) out.seed = seed;
  return out;
}

/** Mean requests per tick of `p` at `elapsedMs` after it was set: the diurnal curve, if any. */
export function meanRequests(p: TrafficProfile, elapsedMs: number): number {
  if (!p.diurnal) return p.requestsPerTick;
  const { amplitude, periodMs, phaseMs = 0 } = p.diurnal;
  return p.requestsPerTick * (1 + amplitude * Math.sin((2 * Math.PI * (elapsedMs + phaseMs)) / periodMs));
}

interface Setting {
  profile: TrafficProfile;
  since: number;
  /** One stream per region, made on first use, so regions draw independently of each other. */
  streams: Map<string, Rng>;
}

/** The profile a region runs under now, with its random stream. */
export interface ActiveProfile {
  profile: TrafficProfile;
  rng: Rng;
  elapsedMs: number;
}

export class TrafficProfiles {
  private all: Setting | undefined;
  private perRegion = new Map<string, Setting>();

  constructor(private readonly regions: ReadonlySet<string>) {}

  /** Replaces the profile of `region` (or of all regions); its streams start afresh from the seed. */
  set(input: TrafficProfile & { region?: string }, now = Date.now()): void {
    const { region, ...rest } = validateTrafficProfile(input);
    const setting: Setting = { profile: rest, since: now, streams: new Map() };
    if (region === undefined) {
      this.all = setting;
    } else {
      requireKnownRegion(this.regions, region);
      this.perRegion.set(region, setting);
    }
  }

  /** Without a region: every profile (back to deterministic traffic); with one: that region's own. */
  clear(region?: string): void {
    if (region === undefined) {
      this.all = undefined;
      this.perRegion = new Map();
    } else {
      requireKnownRegion(this.regions, region);
      this.perRegion.delete(region);
    }
  }

  /** What is set, as GET /_sim/traffic answers it. */
  view(): { all: TrafficProfile | null; regions: Record<string, TrafficProfile> } {
    return {
      all: this.all ? structuredClone(this.all.profile) : null,
      regions: Object.fromEntries([...this.perRegion].map(([r, s]) => [r, structuredClone(s.profile)])),
    };
  }

  /** The profile `region` runs under at `now`, or undefined for the deterministic default. */
  active(region: string, now: number): ActiveProfile | undefined {
    const setting = this.perRegion.get(region) ?? this.all;
    if (!setting) return undefined;
    let rng = setting.streams.get(region);
    if (!rng) setting.streams.set(region, (rng = new Rng(streamSeed(setting.profile.seed ?? DEFAULT_SEED, region))));
    return { profile: setting.profile, rng, elapsedMs: now - setting.since };
  }
}
