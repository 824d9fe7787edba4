import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { newId } from '../common/ids';
import { Endpoint } from '../endpoints/endpoint.entity';
import { subscribes } from '../endpoints/subscription';
import { OperatorEvents } from '../operator-events/operator-events';
import { EnqueueItem } from '../queues/delivery-queues';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { WAITING_IN_LINE_SQL } from '../endpoints/ordering';
import { candidateFilter } from './replay-selection';
import { Replay } from './replay.entity';

const LEASE_MS = 30_000;
const IDLE_POLL_MS = 1000;
/**
 * Pacing: the next page waits until at most this share of the last one is still due and unsent, so the queues
 * never hold more than about one and a half pages of a replay (in the shards' bulk lanes: live deliveries are
 * queued in the live lanes and never wait behind them in Redis; in the worker every endpoint shares the budget
 * fairly) while the worker always has the next half page to send…
 */
const BACKLOG_SHARE = 0.5;
/** …or this long, so an endpoint that takes its time (rate limit, open circuit) does not stall a replay forever. */
const MAX_PAGE_WAIT_MS = 30_000;
const DRAIN_POLL_MS = 50;

/** What one page did: the candidates handled, the deliveries queued, where the next page starts. */
type Page = { kind: 'page'; handled: number; items: EnqueueItem[]; retrying: EnqueueItem[]; position: string } | { kind: 'finished' } | { kind: 'stopped' };

/**
 * Runs replays in the worker role, one at a time per process, page by page. Each page's deliveries and the
 * replay's new position commit together, so a restart (any worker, once the lease lapses) resumes exactly
 * there. Paced: a page is queued only when most of the previous one has been sent, so live deliveries never
 * wait behind more than about a page of replayed ones.
 */
@Injectable()
export class ReplayRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReplayRunner.name);
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly scheduler: DeliveryScheduler,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly operatorEvents: OperatorEvents,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  // Before the database and the queues close: the page in progress commits, then the lease is given up.
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const replay = await this.claim();
        if (replay) await this.carryOut(replay);
        else await sleep(IDLE_POLL_MS);
      } catch (error) {
        this.logger.warn(`replay runner: ${(error as Error).message}`);
        await sleep(IDLE_POLL_MS);
      }
    }
  }

  /** A running replay no live worker holds, leased to this one. */
  private async claim(): Promise<Replay | null> {
    const [rows]: [Record<string, unknown>[], number] = await this.db.query(
      `UPDATE replays SET lease_until = now() + make_interval(secs => $1::float / 1000)
       WHERE id = (SELECT id FROM replays WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now()) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [LEASE_MS],
    );
    if (!rows.length) return null;
    return this.db.getRepository(Replay).findOneByOrFail({ id: rows[0].id as string });
  }

  private async carryOut(replay: Replay): Promise<void> {
    try {
      for (;;) {
        if (this.stopping) return await this.release(replay);
        const page = await this.db.transaction((tx) => this.nextPage(tx, replay));
        if (page.kind === 'stopped') return; // cancelled meanwhile
        if (page.kind === 'finished') return await this.finish(replay, 'done', null);
        await this.dispatch(page.items, page.retrying);
        await this.paced(page.items);
      }
    } catch (error) {
      await this.finish(replay, 'failed', (error as Error).message);
    }
  }

  /** One page in one transaction: the deliveries resent or created, and the replay's position, done and lease. */
  private async nextPage(tx: EntityManager, replay: Replay): Promise<Page> {
    const [state]: { status: string; position: string | null; done: number; queued: number }[] = await tx.query(`SELECT status, position, done, queued FROM replays WHERE id = $1 FOR UPDATE`, [replay.id]);
    if (!state || state.status !== 'running') return { kind: 'stopped' };
    const size = this.config.replayPageSize;
    const page = replay.missing ? await this.createMissing(tx, replay, state.position, size) : await this.resend(tx, replay, state.position, size);
    if (!page) return { kind: 'finished' };
    await tx.query(
      `UPDATE replays SET position = $2, done = done + $3, queued = queued + $4, lease_until = now() + make_interval(secs => $5::float / 1000), updated_at = now() WHERE id = $1`,
      [replay.id, page.position, page.handled, page.items.length, LEASE_MS],
    );
    return { kind: 'page', ...page };
  }

  /** Resends a page of the selected deliveries (as a manual attempt now, like a resend). */
  private async resend(tx: EntityManager, replay: Replay, position: string | null, size: number): Promise<Omit<Extract<Page, { kind: 'page' }>, 'kind'> | null> {
    const { where, params } = candidateFilter(replay, 'd');
    const rows: { id: string; endpoint_id: string; attempt_count: number; status: string }[] = await tx.query(
      `SELECT d.id, d.endpoint_id, d.attempt_count, d.status FROM deliveries d WHERE ${where} AND ($7::varchar IS NULL OR d.id > $7) ORDER BY d.id LIMIT $8 FOR UPDATE`,
      [...params, position, size],
    );
    if (!rows.length) return null;
    // Ordered delivery: a finished delivery replayed leaves its line and goes now (as a resend does, see
    // DeliveriesService.resend); a pending one (failed, waiting for its retry) keeps its place in its line.
    await tx.query(
      `UPDATE deliveries SET status = 'pending', next_trigger = 'manual', updated_at = now(),
              next_attempt_at = CASE WHEN status = 'pending' AND next_attempt_at >= ${WAITING_IN_LINE_SQL} THEN next_attempt_at ELSE now() END,
              ordering_seq = CASE WHEN status <> 'pending' THEN NULL ELSE ordering_seq END
       WHERE id = ANY($1::varchar[])`,
      [rows.map((r) => r.id)],
    );
    const items = rows.map((r) => ({ deliveryId: r.id, endpointId: r.endpoint_id, attempt: r.attempt_count + 1 }));
    // A failed delivery's retry may already wait in the queue under the same job id: it is promoted, not added.
    const retrying = items.filter((_, i) => rows[i].status === 'pending');
    return { handled: rows.length, items, retrying, position: rows[rows.length - 1].id };
  }

  /** Creates deliveries for a page of the window's events that the endpoint subscribes to now but never got. */
  private async createMissing(tx: EntityManager, replay: Replay, position: string | null, size: number): Promise<Omit<Extract<Page, { kind: 'page' }>, 'kind'> | null> {
    const endpoint = await tx.getRepository(Endpoint).findOneBy({ id: replay.endpointId! });
    if (!endpoint || endpoint.deletedAt) throw new Error('the endpoint was deleted');
    const { where, params } = candidateFilter(replay, 'e', endpoint.id);
    // The payload is read only when the endpoint's filter needs it.
    const events: { id: string; event_type: string; channels: string[] | null; payload: string | null }[] = await tx.query(
      `SELECT e.id, e.event_type, e.channels, CASE WHEN $9 THEN e.payload END AS payload FROM events e WHERE ${where} AND ($7::varchar IS NULL OR e.id > $7) ORDER BY e.id LIMIT $8`,
      [...params, position, size, endpoint.filter !== null],
    );
    if (!events.length) return null;
    const wanted = events.filter((e) => subscribes(endpoint, { eventType: e.event_type, channels: e.channels, payload: e.payload ?? '{}' }));
    const ids = wanted.map(() => newId('dlv'));
    if (wanted.length) {
      await tx.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
         SELECT d.id, $2, d.event_id, $3, d.event_type, 'pending', 0, now(), 'manual', now(), now()
         FROM unnest($1::varchar[], $4::varchar[], $5::varchar[]) AS d(id, event_id, event_type)`,
        [ids, replay.tenantId, endpoint.id, wanted.map((e) => e.id), wanted.map((e) => e.event_type)],
      );
    }
    const items = ids.map((id) => ({ deliveryId: id, endpointId: endpoint.id, attempt: 1 }));
    return { handled: events.length, items, retrying: [], position: events[events.length - 1].id };
  }

  /** Queues the page's attempts (promoting a failed delivery's waiting retry); if Redis is down the sweeper offers the committed rows. */
  private async dispatch(items: EnqueueItem[], retrying: EnqueueItem[]): Promise<void> {
    const retried = new Set(retrying.map((r) => r.deliveryId));
    await Promise.all([this.scheduler.dispatch(items.filter((i) => !retried.has(i.deliveryId)), 'replay'), this.scheduler.dispatchNow(retrying, 'replay')]);
  }

  /** Waits until most of the page has been attempted (or waits on its endpoint rather than the queue). */
  private async paced(items: EnqueueItem[]): Promise<void> {
    if (!items.length) return;
    const ids = items.map((i) => i.deliveryId);
    const deadline = Date.now() + MAX_PAGE_WAIT_MS;
    while (!this.stopping && Date.now() < deadline) {
      const [{ due }]: { due: number }[] = await this.db.query(
        `SELECT count(*)::int AS due FROM deliveries WHERE id = ANY($1::varchar[]) AND status = 'pending' AND next_trigger = 'manual' AND next_attempt_at <= now() + interval '1 second'`,
        [ids],
      );
      if (due <= items.length * BACKLOG_SHARE) return;
      await sleep(DRAIN_POLL_MS);
    }
  }

  private async release(replay: Replay): Promise<void> {
    await this.db.query(`UPDATE replays SET lease_until = NULL WHERE id = $1`, [replay.id]);
  }

  private async finish(replay: Replay, status: 'done' | 'failed', error: string | null): Promise<void> {
    const [rows]: [{ total: number; done: number }[], number] = await this.db.query(
      `UPDATE replays SET status = $2::varchar, error = $3, total = CASE WHEN $2::varchar = 'done' THEN done ELSE total END, finished_at = now(), updated_at = now(), lease_until = NULL
       WHERE id = $1 AND status = 'running' RETURNING total, done`,
      [replay.id, status, error],
    );
    if (!rows.length) return;
    if (status === 'failed') this.logger.warn(`replay ${replay.id} failed: ${error}`);
    this.operatorEvents.emit({ type: 'replay.finished', tenantId: replay.tenantId, replayId: replay.id, status, total: rows[0].total, done: rows[0].done, endpointId: replay.endpointId });
  }
}
