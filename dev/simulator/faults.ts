// The faults in force, per region and globally (a region's own setting wins), the checks a
// call runs against them, and the calls they hold up: hung calls wait until the hang is
// lifted, slow ones sleep out their latency, and closing the simulator frees both.
import { validateFaults, type Faults } from './fault-settings';
import { requireKnownRegion } from './http';

interface FaultScope {
  faults: Faults;
  /** Accumulates errorRate5xx per call; a call fails each time it crosses 1. */
  acc5xx: number;
}

/** The faults used up one call at a time. */
type CountedFault = 'status429' | 'status4xx' | 'hangAfterAccept';

export class FaultInjector {
  private global: FaultScope = { faults: {}, acc5xx: 0 };
  private perRegion = new Map<string, FaultScope>();
  private closedFlag = false;
  private readonly hung = new Set<{ region: string; release: () => void }>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; release: () => void }>();

  constructor(private readonly regions: ReadonlySet<string>) {}

  /** Set once the simulator closes: a call released by that must not go on. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** The setting of `key` for `region` (undefined: the global one only). */
  get<K extends keyof Faults>(region: string | undefined, key: K): Faults[K] | undefined {
    return this.owner(region, key)?.faults[key];
  }

  set(f: Faults & { region?: string }): void {
    const { region } = f;
    if (region !== undefined) requireKnownRegion(this.regions, region);
    const valid = validateFaults(f as Record<string, unknown>);
    let scope = this.global;
    if (region !== undefined) {
      let own = this.perRegion.get(region);
      if (!own) this.perRegion.set(region, (own = { faults: {}, acc5xx: 0 }));
      scope = own;
    }
    // A fresh rate starts a fresh pattern, so "set 0.5, then two calls" is predictable.
    if (valid.errorRate5xx !== undefined) scope.acc5xx = 0;
    Object.assign(scope.faults, valid);
    this.releaseHung();
  }

  /** Without a region: every region's faults and the global ones. */
  clear(region?: string): void {
    if (region === undefined) {
      this.global = { faults: {}, acc5xx: 0 };
      this.perRegion = new Map();
    } else {
      requireKnownRegion(this.regions, region);
      this.perRegion.delete(region);
    }
    this.releaseHung();
  }

  /** Whether this call is one errorRate5xx fails. */
  take5xx(region: string): boolean {
    const owner = this.owner(region, 'errorRate5xx');
    const rate = owner?.faults.errorRate5xx ?? 0;
    if (!owner || rate <= 0) return false;
    owner.acc5xx += rate;
    if (owner.acc5xx < 1 - 1e-9) return false;
    owner.acc5xx -= 1;
    return true;
  }

  /** Uses up one call of a counted fault: its setting if it applies to this call, else undefined. */
  take<K extends CountedFault>(region: string, key: K): Faults[K] | undefined {
    const owner = this.owner(region, key);
    const setting: Faults[CountedFault] = owner?.faults[key];
    if (!owner || !setting || setting.count <= 0) return undefined;
    setting.count -= 1;
    if (setting.count === 0) delete owner.faults[key];
    return setting as Faults[K];
  }

  /** Whether a rollback accepted now fails; a counted failRollback is used up by it. */
  takeRollbackFailure(region: string): boolean {
    const owner = this.owner(region, 'failRollback');
    const setting = owner?.faults.failRollback;
    if (!owner || setting === undefined || setting === false) return false;
    if (typeof setting === 'object') {
      if (setting.times <= 1) delete owner.faults.failRollback;
      else owner.faults.failRollback = { times: setting.times - 1 };
    }
    return true;
  }

  /** Resolves once `region` is no longer hung, or the simulator closes. */
  waitWhileHung(region: string): Promise<void> {
    return new Promise((resolve) => {
      this.hung.add({ region, release: resolve });
    });
  }

  /** Resolves after `ms`, or at once when the simulator closes. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        release: resolve,
      };
      this.sleeps.add(entry);
    });
  }

  /** Frees every held call; from now on `closed` is true. */
  close(): void {
    this.closedFlag = true;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.release();
    }
    this.sleeps.clear();
    this.releaseHung();
  }

  /** The scope whose setting applies to `region` for `key`: the region's own, else the global one. */
  private owner<K extends keyof Faults>(region: string | undefined, key: K): FaultScope | undefined {
    const own = region === undefined ? undefined : this.perRegion.get(region);
    if (own && own.faults[key] !== undefined) return own;
    if (this.global.faults[key] !== undefined) return this.global;
    return undefined;
  }

  private releaseHung(): void {
    for (const h of this.hung) {
      if (this.closedFlag || !this.get(h.region, 'hang')) {
        this.hung.delete(h);
        h.release();
      }
    }
  }
}
