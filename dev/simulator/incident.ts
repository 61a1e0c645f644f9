// A shared incident (POST /_sim/incident): something outside the deploy, a dependency
// outage, that makes several regions worse at once whatever version they run. It is the
// noise a comparison against a control region has to see through: a gate that blames the
// new version for it is wrong.
import { objectField, optionalNumberField } from './body-checks';
import { HttpError, requireKnownRegion } from './http';

export interface IncidentSettings {
  /** Multiplies every affected region's error probability (default 1). */
  errorFactor?: number;
  /** Multiplies every affected region's latency (default 1). */
  latencyFactor?: number;
  /** The affected regions; all of them when absent. */
  regions?: string[];
}

export interface IncidentFactors {
  errorFactor: number;
  latencyFactor: number;
}

const NO_INCIDENT: IncidentFactors = { errorFactor: 1, latencyFactor: 1 };

/** Checks a POST /_sim/incident body; unknown regions answer 404, as everywhere else. */
export function validateIncident(input: unknown, known: ReadonlySet<string>): IncidentSettings {
  const body = objectField('', input, ['errorFactor', 'latencyFactor', 'regions']);
  const out: IncidentSettings = {};
  const errorFactor = optionalNumberField('errorFactor', body.errorFactor, (n) => n >= 0, 'a number >= 0');
  const latencyFactor = optionalNumberField('latencyFactor', body.latencyFactor, (n) => n > 0, 'a number > 0');
  // An incident that changes nothing is almost certainly a typo'd body.
  if (errorFactor === undefined && latencyFactor === undefined) throw new HttpError(400, 'an incident needs field "errorFactor" or "latencyFactor"');
  if (errorFactor !== undefined) out.errorFactor = errorFactor;
  if (latencyFactor !== undefined) out.latencyFactor = latencyFactor;
  if (body.regions !== undefined && body.regions !== null) {
    const regions = body.regions;
    if (!Array.isArray(regions) || regions.length === 0 || !regions.every((r): r is string => typeof r === 'string' && r !== '')) {
      throw new HttpError(400, 'field "regions" must be a non-empty array of region names');
    }
    for (const r of regions) requireKnownRegion(known, r);
    out.regions = [...new Set(regions)];
  }
  return out;
}

/** At most one incident at a time: starting one replaces the one before. */
export class Incident {
  private current: IncidentSettings | undefined;

  constructor(private readonly regions: ReadonlySet<string>) {}

  start(settings: IncidentSettings): void {
    this.current = validateIncident(settings, this.regions);
  }

  end(): void {
    this.current = undefined;
  }

  /** What GET /_sim/incident answers: the incident in force, or null. */
  view(): IncidentSettings | null {
    return this.current ? structuredClone(this.current) : null;
  }

  /** The factors on `region` now: 1 and 1 outside an incident. */
  factors(region: string): IncidentFactors {
    const c = this.current;
    if (!c || (c.regions && !c.regions.includes(region))) return NO_INCIDENT;
    return { errorFactor: c.errorFactor ?? 1, latencyFactor: c.latencyFactor ?? 1 };
  }
}
