// pino for the worker: JSON for machines, pretty for a human at a terminal. The SDK's
// own logs (workflow and activity `log`) are routed through the same logger.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  if (format === 'pretty') return pino({ level }, pretty({ colorize: true, sync: true, ignore: 'pid,hostname' }));
  return pino({ level });
}

const SDK_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

let installed = false;
/** Installs the SDK runtime once per process (a second install throws in the SDK). */
export function installRuntime(logger: Logger, shutdownSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): void {
  if (installed) return;
  installed = true;
  const forward = new DefaultLogger(SDK_LEVEL[logger.level] ?? 'INFO', (entry) => {
    const method =
      entry.level === 'TRACE' ? 'trace' : entry.level === 'DEBUG' ? 'debug' : entry.level === 'WARN' ? 'warn' : entry.level === 'ERROR' ? 'error' : 'info';
    logger[method]({ ...(entry.meta ?? {}) }, entry.message);
  });
  Runtime.install({ logger: forward, shutdownSignals });
}
