import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { newId } from '../common/ids';
import { EndpointCache } from '../endpoints/endpoint-cache';
import { EventsService } from '../events/events.service';
import { Tenant } from '../tenants/tenant.entity';
import { OperatorEvent, operatorEventFacts, shouldEmit } from './operator-event';

/**
 * Herald's own events (`herald.endpoint.disabled`, `herald.delivery.dead`, …) published as ordinary
 * events: to the operator tenant (HERALD_OPERATOR_TENANT) and to the affected tenant's endpoints that
 * subscribe to them. Fire and forget: call it after the state change has committed; a failure to emit is
 * logged and never reaches the caller, so it cannot affect the delivery that caused it.
 */
@Injectable()
export class OperatorEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger(OperatorEvents.name);
  private operatorTenantId: Promise<string | null> = Promise.resolve(null);

  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    private readonly events: EventsService,
    private readonly endpoints: EndpointCache,
    @Inject(CONFIG) private readonly config: HeraldConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.operatorTenant) return;
    this.operatorTenantId = this.ensureOperatorTenant(this.config.operatorTenant);
    // Start-up fails if the operator tenant cannot be made: a misconfiguration should be loud.
    await this.operatorTenantId;
  }

  emit(event: OperatorEvent): void {
    if (!shouldEmit(event)) return;
    this.publish(event).catch((error: Error) => this.logger.warn(`could not emit ${event.type} for tenant ${event.tenantId}: ${error.message}`));
  }

  private async publish(event: OperatorEvent): Promise<void> {
    const facts = operatorEventFacts(event, new Date());
    const operatorTenantId = await this.operatorTenantId;
    const targets = new Set<string>();
    if (operatorTenantId) targets.add(operatorTenantId);
    // The affected tenant gets it only where an endpoint asks for it, so its event list is not filled with events nobody reads.
    if ((await this.endpoints.matching(event.tenantId, facts)).endpoints.length > 0) targets.add(event.tenantId);
    await Promise.all([...targets].map((tenantId) => this.events.publishRaw({ tenantId, eventType: facts.eventType, payload: facts.payload })));
  }

  /** The operator tenant by uid, created when missing (several processes may race: the unique uid settles it). */
  private async ensureOperatorTenant(uid: string): Promise<string> {
    const existing = await this.tenants.findOneBy({ uid });
    if (existing) return existing.id;
    try {
      await this.tenants.insert({ id: newId('tnt'), name: 'Herald operator', uid, metadata: { herald: 'operator events' }, publishRateLimitPerSecond: null });
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
    }
    const tenant = await this.tenants.findOneByOrFail({ uid });
    this.logger.log(`operator events go to tenant ${tenant.id} (uid ${uid})`);
    return tenant.id;
  }
}
