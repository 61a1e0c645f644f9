// How `mrcd deploy --follow` and `mrcd watch` show the rollout they follow: a view redrawn
// in place on a terminal, appended lines in logs and pipes, NDJSON events with --json.
// What each shows is decided in client/live-view.ts and client/progress.ts (pure); this
// file only writes it.
import type { FollowResult, RolloutStatus } from './rollouts';
import { progressEvents, progressLines, type FollowEvent } from './progress';
import { renderLiveView, type LiveViewOptions } from './live-view';

/** `live`: the view redrawn in place (a terminal); `lines`: what changed, appended; `json`: one event per line. */
export type FollowMode = 'live' | 'lines' | 'json';

/**
 * The mode for an output stream: redrawing only makes sense where a terminal interprets the
 * escapes and has a size. A pseudo-terminal nobody sized (`script` without a terminal, some
 * CI runners) reports 0 columns and 0 rows, where log-update would draw nothing at all.
 */
export function followMode(
  json: boolean | undefined,
  stream: { isTTY?: boolean; columns?: number; rows?: number },
  env: NodeJS.ProcessEnv = process.env,
): FollowMode {
  if (json) return 'json';
  const sized = (stream.columns ?? 0) > 0 && (stream.rows ?? 0) > 0;
  return stream.isTTY && sized && env.TERM !== 'dumb' ? 'live' : 'lines';
}

export interface FollowOutput {
  /** Called with every changed status (followRollout's onChange). */
  update: (s: RolloutStatus, prev?: RolloutStatus) => void;
  /** The verdict: the last frame, or the last event with the exit code mrcd exits with. */
  end(r: FollowResult, exitCode: number): void;
  /** Following failed: with --json, an error event (after a verdict, nothing). */
  fail(rolloutId: string, message: string, exitCode: number): void;
  /** Stops redrawing and leaves the last frame on screen; safe to call twice. */
  stop(): void;
}

export interface FollowOutputOptions {
  /** This command started the rollout (deploy), for the first event. */
  started?: boolean;
  view?: LiveViewOptions;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  now?: () => number;
}

/** Redraws this often so a countdown moves within a quarter second of each second (unchanged frames write nothing). */
const TICK_MS = 250;

export function followOutput(mode: FollowMode, opts: FollowOutputOptions = {}): FollowOutput {
  const stream = opts.stream ?? process.stdout;
  const now = opts.now ?? Date.now;
  if (mode === 'json') {
    let ended = false;
    const emit = (e: FollowEvent) => stream.write(JSON.stringify(e) + '\n');
    return {
      update: (s, prev) => progressEvents(s, prev, now(), { started: opts.started }).forEach(emit),
      end(r, exitCode) {
        ended = true;
        const s = r.status;
        emit({
          type: 'verdict',
          at: new Date(now()).toISOString(),
          rolloutId: s.rolloutId,
          outcome: r.outcome,
          state: s.state,
          succeeded: r.succeeded,
          exitCode,
          summary: s.summary,
          ...(s.halt ? { halt: s.halt } : {}),
          status: s,
        });
      },
      fail(rolloutId, message, exitCode) {
        if (ended) return;
        ended = true;
        emit({ type: 'error', at: new Date(now()).toISOString(), rolloutId, exitCode, message });
      },
      stop() {},
    };
  }
  if (mode === 'lines')
    return {
      update: (s, prev) => progressLines(s, prev).forEach((line) => stream.write(line + '\n')),
      end() {},
      fail() {},
      stop() {},
    };

  // Loaded only for a terminal: log-update is an ES module, and the other commands start without it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { createLogUpdate } = require('log-update') as typeof import('log-update');
  const draw = createLogUpdate(stream as NodeJS.WriteStream);
  let latest: RolloutStatus | undefined;
  let stopped = false;
  const frame = () => latest && !stopped && draw(renderLiveView(latest, now(), opts.view));
  // Soak countdowns and the elapsed time move without a new status.
  const ticker = setInterval(frame, TICK_MS);
  ticker.unref();
  const stop = () => {
    if (stopped) return;
    clearInterval(ticker);
    frame();
    stopped = true;
    draw.done();
  };
  return {
    update(s) {
      latest = s;
      frame();
    },
    end(r) {
      latest = r.status;
      stop();
    },
    fail: () => stop(),
    stop,
  };
}
