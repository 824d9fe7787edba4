import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { newId } from '../common/ids';
import { EndpointsService } from '../endpoints/endpoints.service';
import { EventTypesService } from '../event-types/event-types.service';
import { DeliveryScheduler } from '../queues/delivery-scheduler';
import { Tenant } from '../tenants/tenant.entity';
import { messageOut } from './svix-views';

/**
 * Svix's send-example: the event type's example from the catalog, as a new event delivered to one
 * endpoint only (whatever the endpoint's filters), through the ordinary pipeline (signed, retried, logged).
 */
@Injectable()
export class SvixExamples {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly types: EventTypesService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  async send(tenant: Tenant, endpointIdOrUid: string, eventType: string) {
    const endpoint = await this.endpoints.get(tenant, endpointIdOrUid);
    const type = await this.types.get(eventType);
    const payload = JSON.stringify(type.example ?? {});
    const eventId = newId('evt');
    const deliveryId = newId('dlv');
    const now = new Date();
    await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO events (id, tenant_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)`, [eventId, tenant.id, type.name, payload, now]);
      await tx.query(
        `INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, 'manual', $6, $6)`,
        [deliveryId, tenant.id, eventId, endpoint.id, type.name, now],
      );
    });
    // Committed first: if Redis is down the sweeper enqueues it.
    await this.scheduler.dispatch([{ deliveryId, endpointId: endpoint.id, attempt: 1 }], 'example');
    return messageOut({ id: eventId, tenantId: tenant.id, eventType: type.name, payload, idempotencyKey: null, channels: null, sourceHeaders: null, traceContext: null, createdAt: now });
  }
}
