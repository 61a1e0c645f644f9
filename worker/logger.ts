// pino for the worker: JSON for machines, pretty for a human at a terminal. The SDK's
// own logs (workflow and activity `log`) reach the same logger through the runtime
// (runtime.ts).
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(level: string, format: 'json' | 'pretty'): Logger {
  if (format === 'pretty') return pino({ level }, pretty({ colorize: true, sync: true, ignore: 'pid,hostname' }));
  return pino({ level });
}
