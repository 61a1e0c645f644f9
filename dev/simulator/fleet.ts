// What each service runs in each region, and the revisions before it that a rollback
// walks back through.

export interface RunningVersion {
  service: string;
  region: string;
  version: string;
}

type Revisions = (string | null)[];

function newest(h: Revisions): string | null {
  return h.length > 0 ? (h[h.length - 1] ?? null) : null;
}

export class Fleet {
  // Per service and region, the versions in the order they were deployed; the last one
  // runs. `null` records that the region ran nothing before its first deploy, so a
  // rollback of that deploy knows it may empty the region. Initial versions have no
  // known past: rolling them back fails rather than inventing one.
  private history = new Map<string, Map<string, Revisions>>();

  constructor(
    private readonly regions: ReadonlySet<string>,
    private readonly initialVersions: Readonly<Record<string, string>>,
  ) {
    this.reset();
  }

  /** Every region back to the initial versions, with no past. */
  reset(): void {
    this.history = new Map();
    for (const [service, version] of Object.entries(this.initialVersions)) {
      const perRegion = new Map<string, Revisions>();
      for (const r of this.regions) perRegion.set(r, [version]);
      this.history.set(service, perRegion);
    }
  }

  current(service: string, region: string): string | null {
    const h = this.history.get(service)?.get(region);
    return h ? newest(h) : null;
  }

  previous(service: string, region: string): string | null {
    const h = this.history.get(service)?.get(region);
    return h && h.length > 1 ? (h[h.length - 2] ?? null) : null;
  }

  /** Each (service, region) that runs a version, in the order the service and region were first seen. */
  *running(): Generator<RunningVersion> {
    for (const [service, perRegion] of this.history) {
      for (const region of perRegion.keys()) {
        const version = this.current(service, region);
        if (version !== null) yield { service, region, version };
      }
    }
  }

  /** Makes `version` the one running (by a deploy or by hand); returns what ran before. */
  install(service: string, region: string, version: string): string | null {
    const h = this.revisions(service, region);
    const running = newest(h);
    // Redeploying the running version leaves history alone, so "roll back v" still
    // means "return to what ran before v arrived" and a repeat rollback stays a no-op.
    if (running !== version) {
      if (h.length === 0) h.push(null);
      h.push(version);
    }
    return running;
  }

  /**
   * Drops the running revision for the one before it (null: the region now runs nothing);
   * undefined when no earlier revision is known.
   */
  revert(service: string, region: string): { restored: string | null } | undefined {
    const h = this.revisions(service, region);
    if (h.length < 2) return undefined;
    h.pop();
    const restored = h[h.length - 1] ?? null;
    if (restored === null) h.length = 0;
    return { restored };
  }

  /**
   * `rollout undo`: the revision before the current one becomes the newest, so a second undo
   * toggles back. Undefined when there is no revision before the current one.
   */
  undo(service: string, region: string): { restored: string | null; from: string | null } | undefined {
    const h = this.revisions(service, region);
    if (h.length < 2) return undefined;
    const running = h[h.length - 1] ?? null;
    const restored = h[h.length - 2] ?? null;
    h[h.length - 2] = running;
    h[h.length - 1] = restored;
    return { restored, from: running };
  }

  private revisions(service: string, region: string): Revisions {
    let perRegion = this.history.get(service);
    if (!perRegion) this.history.set(service, (perRegion = new Map<string, Revisions>()));
    let h = perRegion.get(region);
    if (!h) perRegion.set(region, (h = []));
    return h;
  }
}
