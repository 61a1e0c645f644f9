// What happened to the fleet, in order: every deploy, rollback and change by hand that
// changed (or, for deploys, claimed to change) what a region runs. Tests and the chaos
// invariants read it as the ground truth a rollout is judged against.

export interface LedgerEntry {
  seq: number;
  at: number;
  region: string;
  service: string;
  /** manual: a change made by hand (POST /_sim/set), outside any rollout. */
  kind: 'deploy' | 'rollback' | 'manual';
  /**
   * deploy, manual: the version deployed. rollback: the version restored, or '' when the rollback
   * undid the region's first deploy of the service and it now runs nothing.
   */
  version: string;
  /** deploy: what ran before, if anything. rollback: the version rolled back. */
  fromVersion?: string;
  idempotencyKey: string;
}

export class Ledger {
  private entries: LedgerEntry[] = [];
  private seq = 0;

  /** `from`: what the region ran before (deploy, manual) or the version rolled back; null for nothing. */
  append(e: { region: string; service: string; kind: LedgerEntry['kind']; version: string; from: string | null; idempotencyKey: string }): void {
    this.entries.push({
      seq: ++this.seq,
      at: Date.now(),
      region: e.region,
      service: e.service,
      kind: e.kind,
      version: e.version,
      ...(e.from !== null ? { fromVersion: e.from } : {}),
      idempotencyKey: e.idempotencyKey,
    });
  }

  /** Copies, oldest first: a caller cannot rewrite history. */
  list(): LedgerEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  reset(): void {
    this.entries = [];
    this.seq = 0;
  }
}
