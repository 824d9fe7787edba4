import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors';
import { Page, decodeCursor, toPage } from '../common/pagination';
import { parseTime } from '../common/time';
import { RecoverDto } from '../endpoints/dto/endpoint.dto';
import { EndpointsService } from '../endpoints/endpoints.service';
import { DELIVERY_QUEUES, DeliveryQueues, EnqueueItem, deliveryJobId, enqueueDeliveries, shardOf } from '../queues/delivery-queues';
import { ReplaysService } from '../replays/replays.service';
import { Tenant } from '../tenants/tenant.entity';
import { DeliveryAttempt } from './attempt.entity';
import { Delivery } from './delivery.entity';
import { AttemptView, DeliveryQuery, DeliveryView } from './dto/delivery.dto';

export function deliveryView(d: Delivery): DeliveryView {
  return {
    id: d.id,
    eventId: d.eventId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attemptCount,
    nextAttemptAt: d.status === 'pending' && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function attemptView(a: DeliveryAttempt): AttemptView {
  return {
    id: a.id,
    deliveryId: a.deliveryId,
    attemptNumber: a.attemptNumber,
    trigger: a.trigger,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    responseBody: a.responseBody,
    responseHeaders: a.responseHeaders,
    error: a.error,
  };
}

@Injectable()
export class DeliveriesService {
  private readonly logger = new Logger(DeliveriesService.name);

  constructor(
    @InjectRepository(Delivery) private readonly deliveries: Repository<Delivery>,
    @InjectRepository(DeliveryAttempt) private readonly attempts: Repository<DeliveryAttempt>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointsService,
    @Inject(DELIVERY_QUEUES) private readonly queues: DeliveryQueues,
    private readonly replays: ReplaysService,
  ) {}

  async list(tenant: Tenant, query: DeliveryQuery): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor);
    const since = parseTime('since', query.since);
    const until = parseTime('until', query.until);
    const qb = this.deliveries.createQueryBuilder('d').where('d.tenant_id = :tenantId', { tenantId: tenant.id }).orderBy('d.id', 'DESC').limit(limit + 1);
    if (before) qb.andWhere('d.id < :before', { before });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.endpointId) qb.andWhere('d.endpoint_id = :endpointId', { endpointId: query.endpointId });
    if (query.eventId) qb.andWhere('d.event_id = :eventId', { eventId: query.eventId });
    if (since) qb.andWhere('d.created_at >= :since', { since });
    if (until) qb.andWhere('d.created_at < :until', { until });
    return toPage(await qb.getMany(), limit, deliveryView);
  }

  async get(tenant: Tenant, id: string): Promise<Delivery> {
    const delivery = await this.deliveries.findOneBy({ tenantId: tenant.id, id });
    if (!delivery) throw new NotFoundError('delivery', id);
    return delivery;
  }

  async attemptsOf(tenant: Tenant, id: string): Promise<{ data: AttemptView[] }> {
    const delivery = await this.get(tenant, id);
    const rows = await this.attempts.find({ where: { deliveryId: delivery.id }, order: { attemptNumber: 'ASC', startedAt: 'ASC' } });
    return { data: rows.map(attemptView) };
  }

  /** A fresh attempt now, whatever the status, logged with trigger "manual". */
  async resend(tenant: Tenant, id: string): Promise<DeliveryView> {
    const delivery = await this.get(tenant, id);
    const [rows] = await this.db.query(
      `UPDATE deliveries SET status = 'pending', next_trigger = 'manual', next_attempt_at = now(), updated_at = now()
       WHERE id = $1 AND tenant_id = $2 RETURNING attempt_count`,
      [delivery.id, tenant.id],
    );
    const attempt = (rows[0]?.attempt_count ?? delivery.attemptCount) + 1;
    await this.dispatchNow([{ deliveryId: delivery.id, endpointId: delivery.endpointId, attempt }]);
    return deliveryView(await this.get(tenant, id));
  }

  /** Resends every failed (pending after a failure) or dead delivery of the endpoint created in [since, until): a replay. */
  async recover(tenant: Tenant, endpointId: string, dto: RecoverDto): Promise<{ count: number; id: string }> {
    const replay = await this.replays.create(tenant, { since: dto.since, until: dto.until, endpointId, status: ['failed', 'dead'] });
    return { count: replay.total, id: replay.id };
  }

  /**
   * Queues each attempt to run now. A retry of a failed delivery may already wait in the queue under the
   * same job id, delayed: it is promoted instead. The rows are committed first; if Redis is down the sweeper
   * enqueues them.
   */
  private async dispatchNow(items: EnqueueItem[]): Promise<void> {
    try {
      await enqueueDeliveries(this.queues, items);
      for (const item of items) {
        const job = await this.queues[shardOf(item.endpointId, this.queues.length)].getJob(deliveryJobId(item.deliveryId, item.attempt));
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }
    } catch (error) {
      this.logger.warn(`enqueue failed, the sweeper will retry: ${(error as Error).message}`);
    }
  }
}
