// A webhook target for demos and tests (POST /_sim/notifications): the owner channel a
// rollout's notifications reach. It keeps the newest bodies and forgets the rest.

const KEPT = 1000;

export class NotificationSink {
  private received: unknown[] = [];

  add(body: unknown): void {
    this.received = [...this.received.slice(-(KEPT - 1)), body];
  }

  /** Oldest first. */
  list(): unknown[] {
    return [...this.received];
  }

  reset(): void {
    this.received = [];
  }
}
