import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { CircuitSettings, CircuitState, afterFailure, circuitGate, probing, shouldDisable } from './circuit-breaker';
import { EndpointCache } from './endpoint-cache';
import { Endpoint } from './endpoint.entity';

interface HealthRow {
  consecutive_failures: number;
  failing_since: Date | null;
  circuit_phase: CircuitState['phase'];
  circuit_until: Date | null;
  circuit_cooldown_ms: number | null;
}

/** The one mapping of an endpoint's health columns to the circuit's state. */
export function circuitOf(e: Pick<Endpoint, 'consecutiveFailures' | 'circuitPhase' | 'circuitUntil' | 'circuitCooldownMs'>): CircuitState {
  return { consecutiveFailures: e.consecutiveFailures, phase: e.circuitPhase, until: e.circuitUntil, cooldownMs: e.circuitCooldownMs };
}

function circuitOfRow(r: HealthRow): CircuitState {
  return { consecutiveFailures: r.consecutive_failures, phase: r.circuit_phase, until: r.circuit_until, cooldownMs: r.circuit_cooldown_ms };
}

/** What a failed attempt did to its endpoint's health. */
export interface HealthChange {
  circuitOpened: boolean;
  disabled: 'gone' | 'failing' | null;
}

/**
 * An endpoint's health (DESIGN.md principle 9) as the worker moves it: consecutive failures, the circuit and
 * its probe, auto-disable. Decisions are the pure functions of circuit-breaker.ts; this holds the SQL, and
 * tells other processes (through the cache) when the endpoint's state changed.
 */
@Injectable()
export class EndpointHealthStore {
  private readonly logger = new Logger(EndpointHealthStore.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cache: EndpointCache,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  get settings(): CircuitSettings {
    return { threshold: this.config.circuitThreshold, cooldownMs: this.config.circuitCooldownMs };
  }

  /**
   * The cool-down is over: one attempt, across all workers, probes. The others find the probe out (or the
   * circuit already closed, or re-opened) in PostgreSQL and act on that.
   */
  async claimProbe(endpoint: Endpoint, leaseMs: number): Promise<{ kind: 'probe' } | { kind: 'send' } | { kind: 'wait'; until: Date }> {
    const now = new Date();
    const next = probing(circuitOf(endpoint), now, leaseMs);
    const claimed: { id: string }[] = await this.db.query(
      `UPDATE endpoints SET circuit_phase = 'probing', circuit_until = $2
       WHERE id = $1 AND circuit_phase IS NOT NULL AND circuit_until <= $3 AND consecutive_failures >= $4
       RETURNING id`,
      [endpoint.id, next.until, now, this.settings.threshold],
    ).then(([rows]: [{ id: string }[]]) => rows);
    if (claimed.length) {
      Object.assign(endpoint, { circuitPhase: next.phase, circuitUntil: next.until });
      this.cache.changed(endpoint);
      return { kind: 'probe' };
    }
    const [row]: HealthRow[] = await this.db.query(
      `SELECT consecutive_failures, failing_since, circuit_phase, circuit_until, circuit_cooldown_ms FROM endpoints WHERE id = $1`,
      [endpoint.id],
    );
    const gate = row ? circuitGate(circuitOfRow(row), now, this.settings) : { kind: 'send' as const };
    // Still "probe" means the state moved under us; look again shortly rather than race for it.
    if (gate.kind === 'probe') return { kind: 'wait', until: new Date(now.getTime() + 1000) };
    return gate;
  }

  /**
   * After a recorded failure: the endpoint's counters, circuit and auto-disable (410 Gone disables at once), in
   * one short transaction of its own that reads the counters back under the row lock.
   */
  async recordFailure(endpoint: Endpoint, gone: boolean, probe: boolean): Promise<HealthChange> {
    const change = await this.db.transaction((tx) => this.failure(tx, endpoint, gone, probe));
    // After the commit, or another process could reload the endpoint's old state and keep it for the cache's TTL.
    if (change.circuitOpened || change.disabled || probe) this.cache.changed(endpoint);
    return change;
  }

  /** After a recorded success that reset the health columns (in the recorder's statement): the cache learns it. */
  recordReset(endpoint: Endpoint, wasOpen: boolean): void {
    Object.assign(endpoint, { consecutiveFailures: 0, failingSince: null, circuitPhase: null, circuitUntil: null, circuitCooldownMs: null });
    // Other workers hold deliveries back while they think the circuit open: tell them it closed.
    if (wasOpen) this.cache.changed(endpoint);
  }

  private async failure(tx: { query: DataSource['query'] }, endpoint: Endpoint, gone: boolean, probe: boolean): Promise<HealthChange> {
    if (gone) {
      const [, n] = await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'gone', updated_at = now() WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      if (n) Object.assign(endpoint, { disabled: true, disabledReason: 'gone' });
      return { circuitOpened: false, disabled: n ? 'gone' : null };
    }
    const [[row]]: [HealthRow[], number] = await tx.query(
      `UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, now()) WHERE id = $1
       RETURNING consecutive_failures, failing_since, circuit_phase, circuit_until, circuit_cooldown_ms`,
      [endpoint.id],
    );
    if (!row) return { circuitOpened: false, disabled: null };
    const now = new Date();
    const before = circuitOfRow(row);
    const after = afterFailure(before, row.consecutive_failures, now, this.settings, probe);
    const moved = after.phase !== before.phase || after.until?.getTime() !== before.until?.getTime() || after.cooldownMs !== before.cooldownMs;
    if (moved) {
      await tx.query(`UPDATE endpoints SET circuit_phase = $2, circuit_until = $3, circuit_cooldown_ms = $4 WHERE id = $1`, [endpoint.id, after.phase, after.until, after.cooldownMs]);
      if (after.phase === 'open') this.logger.warn(`circuit of endpoint ${endpoint.id} open until ${after.until!.toISOString()} after ${row.consecutive_failures} consecutive failures`);
    }
    let disabled = false;
    if (shouldDisable(row.failing_since, now, this.config.disableAfterMs)) {
      const [, n] = await tx.query(`UPDATE endpoints SET disabled = true, disabled_reason = 'failing', updated_at = now() WHERE id = $1 AND NOT disabled`, [endpoint.id]);
      disabled = n > 0;
      if (disabled) this.logger.warn(`endpoint ${endpoint.id} disabled: failing since ${row.failing_since!.toISOString()}`);
    }
    Object.assign(endpoint, { consecutiveFailures: row.consecutive_failures, failingSince: row.failing_since, circuitPhase: after.phase, circuitUntil: after.until, circuitCooldownMs: after.cooldownMs });
    if (disabled) Object.assign(endpoint, { disabled: true, disabledReason: 'failing' });
    return { circuitOpened: moved && after.phase === 'open' && before.phase !== 'open', disabled: disabled ? 'failing' : null };
  }
}
