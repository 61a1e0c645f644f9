// Deploy and rollback operations as a slow deploy API runs them: accepted at once and
// 'in-progress', finished deployDelayMs later, found again by their idempotency key.
import type { FaultInjector } from './faults';
import type { Fleet } from './fleet';
import { HttpError } from './http';
import type { Ledger } from './ledger';

export const PARTIAL_DEPLOY_ERROR = 'partial deploy: 2/5 hosts updated';
export const FAILED_ROLLBACK_ERROR = 'rollback failed: injected fault';

export type OpKind = 'deploy' | 'rollback';
type OpStatus = 'in-progress' | 'succeeded' | 'failed';

interface Operation {
  operationId: string;
  kind: OpKind;
  region: string;
  service: string;
  version: string;
  status: OpStatus;
  error?: string;
  previousVersion?: string;
  idempotencyKey: string;
}

/** How an operation will end, whatever the faults are by the time it does. */
interface Fate {
  failWith: string | undefined;
  ghost: boolean;
  undo: boolean;
}

/** An operation as the API shows it. */
function view(op: Operation) {
  return {
    operationId: op.operationId,
    kind: op.kind,
    region: op.region,
    service: op.service,
    version: op.version,
    status: op.status,
    ...(op.error !== undefined ? { error: op.error } : {}),
    ...(op.previousVersion !== undefined ? { previousVersion: op.previousVersion } : {}),
  };
}

export type OperationView = ReturnType<typeof view>;

export class Operations {
  // Never reset, so an id polled across reset() cannot alias a newer operation.
  private seq = 0;
  private byId = new Map<string, Operation>();
  private byKey = new Map<string, Operation>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly fleet: Fleet,
    private readonly ledger: Ledger,
    private readonly faults: FaultInjector,
    private readonly delayMs: number,
  ) {}

  /** 202 and a new operation, or 200 and the one this idempotency key already started. */
  start(kind: OpKind, region: string, request: { service: string; version: string; idempotencyKey: string }): { status: number; body: OperationView } {
    const key = `${region}\u0000${kind}\u0000${request.idempotencyKey}`;
    const existing = this.byKey.get(key);
    if (existing) {
      if (existing.service !== request.service || existing.version !== request.version) {
        throw new HttpError(
          409,
          `idempotencyKey "${request.idempotencyKey}" was already used for ${kind} of ${existing.service}@${existing.version} in region "${region}"`,
        );
      }
      return { status: 200, body: view(existing) };
    }
    const op: Operation = {
      operationId: `op-${++this.seq}`,
      kind,
      region,
      service: request.service,
      version: request.version,
      status: 'in-progress',
      idempotencyKey: request.idempotencyKey,
    };
    // The fate is fixed when the call is accepted: a test that sets a fault, calls, and
    // clears the fault still sees the failure it asked for.
    const fate = this.fateOf(kind, region);
    this.byId.set(op.operationId, op);
    this.byKey.set(key, op);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (op.kind === 'deploy') this.finishDeploy(op, fate);
      else this.finishRollback(op, fate);
    }, this.delayMs);
    this.timers.add(timer);
    return { status: 202, body: view(op) };
  }

  find(region: string, operationId: string): OperationView {
    const op = this.byId.get(operationId);
    if (!op || op.region !== region) throw new HttpError(404, `unknown operation "${operationId}" in region "${region}"`);
    return view(op);
  }

  /** Forgets every operation; those in progress never finish. */
  reset(): void {
    this.close();
    this.byId = new Map();
    this.byKey = new Map();
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private fateOf(kind: OpKind, region: string): Fate {
    if (kind === 'deploy') {
      return {
        failWith: this.faults.get(region, 'partialDeploy') ? PARTIAL_DEPLOY_ERROR : undefined,
        ghost: this.faults.get(region, 'ghostDeploy') === true,
        undo: false,
      };
    }
    return {
      failWith: this.faults.takeRollbackFailure(region) ? FAILED_ROLLBACK_ERROR : undefined,
      ghost: false,
      undo: this.faults.get(region, 'undoRollback') === true,
    };
  }

  private finishDeploy(op: Operation, fate: Fate): void {
    const running = this.fleet.current(op.service, op.region);
    if (running !== null) op.previousVersion = running;
    if (fate.failWith) {
      op.status = 'failed';
      op.error = fate.failWith;
      return;
    }
    if (fate.ghost) {
      op.status = 'succeeded';
      return;
    }
    this.fleet.install(op.service, op.region, op.version);
    op.status = 'succeeded';
    this.ledger.append({ region: op.region, service: op.service, kind: 'deploy', version: op.version, from: running, idempotencyKey: op.idempotencyKey });
  }

  private finishRollback(op: Operation, fate: Fate): void {
    if (fate.failWith) {
      op.status = 'failed';
      op.error = fate.failWith;
      return;
    }
    if (fate.undo) {
      const undone = this.fleet.undo(op.service, op.region);
      if (!undone) {
        op.status = 'failed';
        op.error = `no revision before the current one in region "${op.region}"`;
        return;
      }
      this.rolledBack(op, undone.restored, undone.from);
      return;
    }
    if (this.fleet.current(op.service, op.region) !== op.version) {
      op.status = 'succeeded';
      return;
    }
    const reverted = this.fleet.revert(op.service, op.region);
    if (!reverted) {
      op.status = 'failed';
      op.error = `no version before "${op.version}" is known in region "${op.region}" to roll back to`;
      return;
    }
    this.rolledBack(op, reverted.restored, op.version);
  }

  /** A rollback that changed the region: succeeded, and in the ledger. */
  private rolledBack(op: Operation, restored: string | null, from: string | null): void {
    op.status = 'succeeded';
    this.ledger.append({ region: op.region, service: op.service, kind: 'rollback', version: restored ?? '', from, idempotencyKey: op.idempotencyKey });
  }
}
