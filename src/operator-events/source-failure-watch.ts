import { Injectable } from '@nestjs/common';
import { OperatorEvents } from './operator-events';

/** Verification failures in a row on one source that make it "failing" (reported once, until a request verifies). */
export const SOURCE_FAILING_AFTER = 10;

/**
 * Counts an inbound source's consecutive verification failures (401s) and emits
 * `source.verification_failing` when they reach SOURCE_FAILING_AFTER: once per run of failures. In memory
 * and per API process (no I/O on the inbound path); behind a load balancer each process counts its share.
 */
@Injectable()
export class SourceFailureWatch {
  private readonly failures = new Map<string, number>();

  constructor(private readonly operatorEvents: OperatorEvents) {}

  failed(source: { id: string; tenantId: string; name: string }, reason: string): void {
    const count = (this.failures.get(source.id) ?? 0) + 1;
    if (this.failures.size > 100_000) this.failures.clear();
    this.failures.set(source.id, count);
    if (count === SOURCE_FAILING_AFTER) {
      this.operatorEvents.emit({ type: 'source.verification_failing', tenantId: source.tenantId, sourceId: source.id, sourceName: source.name, consecutiveFailures: count, lastReason: reason });
    }
  }

  verified(sourceId: string): void {
    if (this.failures.size > 0) this.failures.delete(sourceId);
  }
}
