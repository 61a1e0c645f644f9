// A deployed region until its promotion: the soak (one watch whose check at the soak's end
// is the final gate), soak extensions while evidence is missing, and the approval and
// pause holds, during which the region stays watched: a breach while held fails it.
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { GateResult, SloContext, WatchOutcome } from '../../domain/activity-contract';
import type { NormalizedRegion } from '../../plan';
import { formatDuration } from '../../domain/duration';
import { describeGate } from '../../domain/gate-text';
import { causeFromGate, causeWithDetail } from '../../domain/halt-cause';
import { checkActivities, gateActs, inRegion } from './activities';
import { holdWhilePaused, waitFor } from './halts';
import { Aborted, causeMessage, type SoakOutcome } from './outcomes';
import { clearedByPolicy } from './policy';
import type { RolloutRun } from './run';
import { stillRunsIt } from './verify';
import { sloContext, watchInput, watchRegionUntilBreach, WATCH_HORIZON_MIN_MS } from './watches';

/** Soaks, gates and holds the deployed region i; only `passed` goes on to promotion. */
export async function soakGateAndHold(run: RolloutRun, i: number, soakEndsAt: number): Promise<SoakOutcome> {
  const [region, r] = run.regionOf(i);
  const sloBase = sloContext(run, i);
  const guard = new UnpromotedWatch(run, i);
  const soakScope = new CancellationScope();
  // Before the soak ended in its watch, the guard watched the whole soak beside a timer.
  if (!run.gen.soakEndsInItsWatch) void guard.watch();
  // Gates also ask the deployer what the region runs: a promotion needs both answers.
  const gateInput = run.gen.attemptKeys ? { ...sloBase, deployer: run.plan.deployer } : sloBase;
  try {
    // The soak is one watch whose check at the soak's end is the final gate; a skip-soak or
    // an abort cuts it short. (A watch on an older worker ends without a gate: the gate
    // activity evaluates it then.)
    let gated: GateResult | undefined;
    if (run.gen.soakEndsInItsWatch && !run.intents.soakSkipped(region.name)) {
      const out = await soakInItsWatch(run, i, soakEndsAt, soakScope);
      if (out?.kind === 'gated') gated = out.result;
      else if (out && out.kind !== 'ended') return fromWatch(region, out);
      // Cut short or ended without a gate: the watch goes, the gate activity decides.
      else if (!out) soakScope.cancel();
    }
    const failed = await gateUntilConclusive(run, i, gated, guard, gateInput);
    if (failed) return failed;
    delete r.waitingFor;
    return await holdForPromotion(run, i, guard);
  } finally {
    soakScope.cancel();
    guard.stop();
    run.intents.forgetSkipSoak(region.name);
  }
}

/**
 * The watch that guards a region until it is promoted while no soak watch does: started
 * only when needed (a soak cut short or extended, a hold for approval or pause), since a
 * soak that ends on time was watched by its gated watch.
 */
class UnpromotedWatch {
  private readonly scope = new CancellationScope();
  private breach: Promise<WatchOutcome | undefined> | undefined;

  constructor(
    private readonly run: RolloutRun,
    private readonly i: number,
  ) {}

  /** Starts the watch (once) and returns its outcome, which settles only with a breach or too little evidence. */
  watch(): Promise<WatchOutcome | undefined> {
    return (this.breach ??= this.scope.run(() => asEvidence(watchRegionUntilBreach(this.run, this.i, 'soak'))));
  }

  /** The outcome of the watch if it was started. */
  get started(): Promise<WatchOutcome | undefined> | undefined {
    return this.breach;
  }

  stop(): void {
    this.scope.cancel();
  }
}

/** A watch that fails for good is a lack of evidence, never a pass; a cancelled one never settles. */
function asEvidence(watch: Promise<WatchOutcome>): Promise<WatchOutcome> {
  return watch.catch((e) => {
    if (isCancellation(e)) return new Promise<never>(() => {});
    return { kind: 'inconclusive-limit', result: { verdict: 'error', checks: [], at: Date.now() }, checksRun: 0, error: causeMessage(e) } as WatchOutcome;
  });
}

function fromWatch(region: NormalizedRegion, o: WatchOutcome): SoakOutcome {
  if (o.kind === 'breach')
    return {
      kind: 'failed',
      reason: `SLO breach in ${region.name}: ${describeGate(o.result)}`,
      gate: o.result,
      cause: causeFromGate('slo-breach', region.name, o.result),
    };
  if (o.kind === 'inconclusive-limit') {
    const reason = `no conclusive SLO evidence in ${region.name} after ${o.checksRun} checks: ${describeGate(o.result)}`;
    return { kind: 'inconclusive', reason, gate: o.result, cause: causeFromGate('inconclusive', region.name, o.result) };
  }
  return { kind: 'inconclusive', reason: `the SLO watch of ${region.name} ended without a verdict`, cause: { kind: 'inconclusive', region: region.name } };
}

/** The soak as one watch with the final gate at its end; undefined when a skip-soak cut it short. */
async function soakInItsWatch(run: RolloutRun, i: number, soakEndsAt: number, soakScope: CancellationScope): Promise<WatchOutcome | undefined> {
  const [region] = run.regionOf(i);
  const summary = `soak of ${region.name} ${formatDuration(region.soakMs)}, a check every ${formatDuration(region.checkIntervalMs)}, then its gate`;
  const checks = checkActivities(region, Math.max(region.maxSoakMs, WATCH_HORIZON_MIN_MS), summary);
  const soakWatch = soakScope.run(() =>
    asEvidence(checks.checkRegion({ ...watchInput(run, i, 'soak', soakEndsAt), finalGate: { deployer: run.plan.deployer } })),
  );
  let settled = false;
  // (`settled` lets the condition go once the watch has answered.)
  const cut = condition(() => settled || run.intents.soakSkipped(region.name) || run.intents.abortRequested).then(() => undefined);
  const out = await Promise.race([soakWatch, cut]);
  settled = true;
  if (run.intents.abortRequested) throw new Aborted();
  return out;
}

/**
 * The gate, evaluated until it is conclusive: a soak not yet ended (an older run, a cut-short
 * or old-worker soak) waits on a durable timer raced with the guard watch, so history stays
 * O(1) however long the soak; too little evidence extends the soak up to maxSoak. Returns
 * undefined when the region may be promoted, else why not.
 */
async function gateUntilConclusive(
  run: RolloutRun,
  i: number,
  gated: GateResult | undefined,
  guard: UnpromotedWatch,
  gateInput: SloContext,
): Promise<SoakOutcome | undefined> {
  const [region, r] = run.regionOf(i);
  let soakEnd = r.soakEndsAt!;
  for (;;) {
    let gate = gated;
    gated = undefined;
    if (!gate) {
      const remaining = soakEnd - Date.now();
      if (remaining > 0 && !run.intents.soakSkipped(region.name)) {
        const timer = condition(() => run.intents.soakSkipped(region.name) || run.intents.abortRequested, remaining, {
          summary: `soak of ${region.name}: ${formatDuration(remaining)} to its gate`,
        }).then(() => undefined);
        const early = await Promise.race([timer, guard.watch()]);
        if (run.intents.abortRequested) throw new Aborted();
        if (early) return fromWatch(region, early);
      }
      run.move(r, 'gating');
      run.publish();
      gate = await inRegion(gateActs.evaluateGate, region, gateInput);
    }
    r.lastGate = gate;
    const deployment = gate.deployment?.verdict;
    if (gate.verdict === 'pass' && (deployment === undefined || deployment === 'pass' || deployment === 'unverified')) return undefined;
    if (gate.verdict === 'fail')
      return { kind: 'failed', reason: `gate failed in ${region.name}: ${describeGate(gate)}`, gate, cause: causeFromGate('gate-failed', region.name, gate) };
    // Not this version's fault (no gate, so no quarantine): the region does not run it.
    if (deployment === 'fail') {
      const detail = gate.deployment!.detail;
      return {
        kind: 'failed',
        reason: `${region.name} does not run ${run.plan.version} at its gate: ${detail}`,
        cause: causeWithDetail({ kind: 'not-running-version', region: region.name }, detail),
      };
    }
    // Too little evidence: soak longer, up to the plan's maximum, then halt.
    const next = Date.now() + region.checkIntervalMs;
    if (next > r.deployedAt! + region.maxSoakMs) return inconclusiveAtMaxSoak(region, gate);
    soakEnd = next;
    run.move(r, 'soaking');
    r.soakEndsAt = soakEnd;
    r.waitingFor = `more evidence (${gate.verdict === 'pass' ? `deployer status ${deployment}: ${gate.deployment?.detail}` : gate.verdict}): soak extended`;
    run.publish();
  }
}

function inconclusiveAtMaxSoak(region: NormalizedRegion, gate: GateResult): SoakOutcome {
  if (gate.verdict === 'pass') {
    const detail = gate.deployment?.detail;
    return {
      kind: 'inconclusive',
      reason: `what ${region.name} runs is unknown until maxSoak: ${detail}`,
      gate,
      cause: causeWithDetail({ kind: 'inconclusive', region: region.name }, detail ?? 'what the region runs is unknown'),
    };
  }
  return {
    kind: 'inconclusive',
    reason: `gate ${gate.verdict} in ${region.name} until maxSoak: ${describeGate(gate)}`,
    gate,
    cause: causeFromGate('inconclusive', region.name, gate),
  };
}

/** Approval and pause hold the promotion, not the watch: a breach while held still fails the region. */
async function holdForPromotion(run: RolloutRun, i: number, guard: UnpromotedWatch): Promise<SoakOutcome> {
  const [region, r] = run.regionOf(i);
  // What the region ran at its gate may have changed while it was held: read it again.
  const held = (region.approval === 'required' && !run.intents.isApproved(region.name)) || run.intents.paused;
  if (region.approval === 'required' && !run.intents.isApproved(region.name)) {
    run.move(r, 'awaiting-approval');
    r.waitingFor = 'approval';
    run.publish();
    const out = await waitFor(run, () => run.intents.isApproved(region.name), guard.watch());
    delete r.waitingFor;
    if (out) return fromWatch(region, out);
  }
  // The fleet policy after any pause; a pause that came while the policy held the promotion holds it again.
  let policyHeld = false;
  for (;;) {
    const out = await holdWhilePaused(run, r, run.intents.paused ? guard.watch() : guard.started);
    if (out) return fromWatch(region, out);
    // The guard watch starts only if the policy holds the promotion.
    const policy = await clearedByPolicy(run, i, 'promote', () => guard.watch());
    if (policy.breach) return fromWatch(region, policy.breach);
    policyHeld ||= policy.held;
    if (!run.intents.paused) break;
  }
  if ((held || policyHeld) && run.gen.edges) return (await stillRunsIt(run, i)) ?? { kind: 'passed' };
  return { kind: 'passed' };
}
