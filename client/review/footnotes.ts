// The definition of every figure the review shows, one place for the Markdown and HTML
// footnotes and the JSON report, so a number never travels without what it means.

export const FOOTNOTES = {
  window: 'Rollouts whose last run closed in [since, until). A rollout that continued as new counts once, by its last run; running rollouts are not reviewed.',
  rollouts: 'Finished rollouts in the window, including those Temporal ended without a final status (terminated, timed out).',
  verdicts:
    "succeeded / rolled-back / aborted / failed: the state in the rollout's final status. terminated / timed-out: Temporal ended the execution, so no status was written (counted from visibility). no-status: closed without a readable final status otherwise (e.g. cancelled before it started).",
  rates: 'A verdict count divided by all rollouts of the group, terminated and timed-out ones included.',
  everHalted:
    'Rollouts that waited for an operator after a failure at least once: an accepted retry (or a resume that retried), or a region that failed, breached, regressed or was inconclusive with the rollout ending aborted. A halt cleared by a retry leaves only the retry; aborts of a running rollout do not count.',
  problems: 'Rollouts in which some region failed its final gate, breached an SLO while soaking or held, or regressed after promotion.',
  caughtAt:
    "For each problem rollout, the number (#1 = first, in plan order) of the first region that failed its gate, breached or regressed, as the final status records it (each region's last gate result, its regression time, and the halt's cause). '#1: 3, #2: 1' = three caught in the first region, one in the second; in JSON caughtAt[i] counts region #(i+1).",
  firstRegion:
    'Problem rollouts caught in their first region (the smallest: plans go smallest first): the blast radius saved. Rate = caught in the first region / problems.',
  paused:
    'The recorded pause holds (status.holds) where the rollout records them, exactly; in older rollouts, accepted pause actions to the next accepted resume, retry or abort, or the end of the rollout. Total over the group, and how many rollouts were paused at all. Only the newest 100 actions are kept in status; older ones are not timed.',
  halted:
    "The recorded halted and rollback-failed holds (status.holds) where the rollout records them, exactly; in older rollouts, from the halt's evidence (the failing gate result's time, the regression's time, or the recorded halt) to the next accepted retry, resume or abort, or the end. It includes the automatic rollback of the failed region before the halt. A halt whose region passed on retry has lost its start: it counts as halted but adds no time.",
  deploy:
    "A region's turn (the rollout's start for the first region, the previous region's promotion after that) to its deploy finishing: deploy-window and pause waits before the deploy included.",
  soak: 'Deploy finished to the final gate result: extensions for missing evidence included, a skip-soak shortens it.',
  hold: 'Final gate result to promotion: approval and pause holds after the gate.',
  region: "A promoted region's turn to its promotion (deploy + soak + hold).",
  rollout: "The rollout's start (its first run) to its end, whatever the verdict.",
  stages: 'Mean and 95th percentile (nearest rank) over every promoted region (rollout: every rollout with a final status) in the group.',
  overrides: 'status.overrides: every skip-soak, quarantine and freeze override, with who and the reason they gave.',
  checks:
    "Check names in each region's last gate result (a retried region's earlier results are replaced) and in halt causes. Evaluated = it returned pass or fail; never evaluated = it was listed but only ever returned inconclusive or error. Checks of regions that never reached their gate are not seen.",
  shadow:
    "Shadow checks (shadow: true: evaluated, never acted on) in each region's last gate result, beside that gate's verdict: agreed, would fail (the shadow check failed where the gate passed: it would have rolled back), would pass (it passed where the gate failed), undecided (either was inconclusive or an error).",
  staleHolds:
    'A pause, a halt, or an approval wait (gate result to promotion of a region approved by someone) that lasted longer than --stale-after (default 1h), or was still open when the rollout ended after longer than that. Reminders: status.reminders (sent, escalated) summed where rollouts record them.',
  undeclaredGrowth: 'Rollouts of more than two regions whose plan declared no reason to grow past two (status.growthReason absent or empty).',
} as const;

export type FigureName = keyof typeof FOOTNOTES;
