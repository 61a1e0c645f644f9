// The SloContext every provider test starts from; each file fills in its Prometheus and deploy time.
import type { SloContext } from '../../domain/activity-contract';

export function sloContext(over: Partial<SloContext> & Pick<SloContext, 'since'>): SloContext {
  return {
    rolloutId: 'r-1',
    service: 'checkout',
    version: '2.0.0',
    region: 'eu-west-1',
    gate: { checks: [], maxInconclusive: 3 },
    ...over,
  };
}
