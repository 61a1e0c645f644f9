// `mrcd review`: the rollout-quality review of a window of finished rollouts (docs/review.md).
import { writeFileSync } from 'node:fs';
import { withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';
import { lazy } from '../lazy';

type ReviewOpts = { since: string; until?: string; service?: string; owner?: string; format: string; staleAfter: string; out?: string };

export async function review({ options: o, global: g }: CommandInput<ReviewOpts>): Promise<void> {
  const r = lazy('review');
  let flags;
  try {
    flags = r.parseReviewFlags(o, Date.now());
    r.reviewQuery({ ...flags, ...(o.service ? { service: o.service } : {}), ...(o.owner ? { owner: o.owner } : {}) });
  } catch (e) {
    if (e instanceof r.ReviewFlagError) throw new ExitError(EXIT.invalid, e.message);
    // A refused filter value names what it is ("service …", "owner …").
    throw new ExitError(EXIT.invalid, `--${(e as Error).message}`);
  }
  const scope = { since: flags.since, until: flags.until, ...(o.service ? { service: o.service } : {}), ...(o.owner ? { owner: o.owner } : {}) };
  const collected = await withClient(g, (m) => r.collectRollouts(m, scope));
  const report = r.aggregate(collected, { ...scope, staleAfterMs: flags.staleAfterMs });
  const text = await r.renderReview(report, g.json ? 'json' : flags.format);
  if (o.out === undefined) return void process.stdout.write(text);
  try {
    writeFileSync(o.out, text);
  } catch (e) {
    throw new ExitError(EXIT.invalid, `--out: cannot write ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  process.stderr.write(`review of ${report.total.rollouts} rollout(s) written to ${o.out}\n`);
}
