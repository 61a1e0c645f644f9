// Which versions serve errors. A version is marked bad for every service or for one; the
// synthetic traffic of a bad version fails, which is what an SLO gate has to catch.
//
// A mark may also be scoped (a region) or graded (errorFactor, latencyFactor): a version
// that is only somewhat worse, or only in one region, is what a statistical comparison with
// a control region must find. Scoped marks live beside the plain ones and never change
// what a plain mark means.
import { optionalNumberField } from './body-checks';
import { HttpError, requireKnownRegion } from './http';

/** The optional fields of POST /_sim/bad; without any of them a mark is a plain one. */
export interface BadEffect {
  /** Under a traffic profile: the version fails errorRate × errorFactor of requests instead of badErrorRatio. */
  errorFactor?: number;
  /** Under a latency profile: the version's latency is that many times slower. */
  latencyFactor?: number;
  /** Bad only in this region. */
  region?: string;
}

/** How a version behaves where it runs: `bad`, and the factors of the scoped mark that applies, if any. */
export interface Verdict {
  bad: boolean;
  errorFactor?: number;
  latencyFactor?: number;
}

interface ScopedMark extends BadEffect {
  service?: string;
  /** markGood(v, s) on a mark for every service: s is exempt. */
  exempt: Set<string>;
}

/** The scoped fields of a POST /_sim/bad body (other fields are left to the caller, as before). */
export function validateBadEffect(body: Record<string, unknown>, regions: ReadonlySet<string>): BadEffect {
  const out: BadEffect = {};
  const errorFactor = optionalNumberField('errorFactor', body.errorFactor, (n) => n >= 0, 'a number >= 0');
  const latencyFactor = optionalNumberField('latencyFactor', body.latencyFactor, (n) => n > 0, 'a number > 0');
  if (errorFactor !== undefined) out.errorFactor = errorFactor;
  if (latencyFactor !== undefined) out.latencyFactor = latencyFactor;
  if (body.region !== undefined && body.region !== null) {
    if (typeof body.region !== 'string' || body.region === '') throw new HttpError(400, 'field "region" must be a non-empty string when given');
    requireKnownRegion(regions, body.region);
    out.region = body.region;
  }
  return out;
}

export class BadVersions {
  private readonly everywhere = new Set<string>();
  private readonly forService = new Map<string, Set<string>>();
  // markGood(v, s) while v is bad for every service needs an exception for s.
  private readonly goodExcept = new Map<string, Set<string>>();
  /** Per version, its scoped marks: at most one per (service, region). */
  private readonly scoped = new Map<string, ScopedMark[]>();

  isBad(service: string, version: string): boolean {
    if (this.forService.get(service)?.has(version)) return true;
    return this.everywhere.has(version) && !this.goodExcept.get(service)?.has(version);
  }

  /** How `version` of `service` behaves in `region`; the most specific scoped mark gives the factors. */
  verdict(service: string, region: string, version: string): Verdict {
    let best: ScopedMark | undefined;
    let bestScore = -1;
    for (const m of this.scoped.get(version) ?? []) {
      if (m.service === undefined ? m.exempt.has(service) : m.service !== service) continue;
      if (m.region !== undefined && m.region !== region) continue;
      const score = (m.service !== undefined ? 2 : 0) + (m.region !== undefined ? 1 : 0);
      if (score > bestScore) [best, bestScore] = [m, score];
    }
    const out: Verdict = { bad: best !== undefined || this.isBad(service, version) };
    if (best?.errorFactor !== undefined) out.errorFactor = best.errorFactor;
    if (best?.latencyFactor !== undefined) out.latencyFactor = best.latencyFactor;
    return out;
  }

  /** Without a service: bad for every service. With an effect that sets anything: a scoped mark (replacing the one of the same service and region). */
  markBad(version: string, service?: string, effect: BadEffect = {}): void {
    if (effect.errorFactor !== undefined || effect.latencyFactor !== undefined || effect.region !== undefined) {
      const marks = (this.scoped.get(version) ?? []).filter((m) => m.service !== service || m.region !== effect.region);
      const mark: ScopedMark = { ...effect, exempt: new Set() };
      if (service !== undefined) mark.service = service;
      this.scoped.set(version, [...marks, mark]);
      return;
    }
    if (service === undefined) {
      this.everywhere.add(version);
      for (const s of this.goodExcept.values()) s.delete(version);
    } else {
      let s = this.forService.get(service);
      if (!s) this.forService.set(service, (s = new Set()));
      s.add(version);
      this.goodExcept.get(service)?.delete(version);
    }
  }

  /** Without a service: good for every service. Clears scoped marks as well as plain ones. */
  markGood(version: string, service?: string): void {
    this.clearScoped(version, service);
    if (service === undefined) {
      this.everywhere.delete(version);
      for (const s of this.forService.values()) s.delete(version);
      for (const s of this.goodExcept.values()) s.delete(version);
    } else {
      this.forService.get(service)?.delete(version);
      if (this.everywhere.has(version)) {
        let s = this.goodExcept.get(service);
        if (!s) this.goodExcept.set(service, (s = new Set()));
        s.add(version);
      }
    }
  }

  reset(): void {
    this.everywhere.clear();
    this.forService.clear();
    this.goodExcept.clear();
    this.scoped.clear();
  }

  /** markGood's part for scoped marks: those of the service go, and a mark for every service exempts it. */
  private clearScoped(version: string, service: string | undefined): void {
    if (service === undefined) {
      this.scoped.delete(version);
      return;
    }
    const kept = (this.scoped.get(version) ?? []).filter((m) => m.service !== service);
    for (const m of kept) if (m.service === undefined) m.exempt.add(service);
    this.scoped.set(version, kept);
  }
}
