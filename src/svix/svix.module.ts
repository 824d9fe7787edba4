import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { DeliveryAttempt } from '../deliveries/attempt.entity';
import { DeliveriesModule } from '../deliveries/deliveries.module';
import { Delivery } from '../deliveries/delivery.entity';
import { Endpoint } from '../endpoints/endpoint.entity';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { EventTypesModule } from '../event-types/event-types.module';
import { HeraldEvent } from '../events/event.entity';
import { PortalModule } from '../portal/portal.module';
import { EventsModule } from '../events/events.module';
import { Tenant } from '../tenants/tenant.entity';
import { TenantsModule } from '../tenants/tenants.module';
import { IdempotencyInterceptor, IdempotencyStore } from './idempotency';
import { IdempotentResponse } from './idempotent-response.entity';
import { SvixApplicationsController, SvixHealthController } from './svix-applications.controller';
import { SvixApplications } from './svix-applications.service';
import { SvixAuthGuard } from './svix-auth';
import { SvixEndpointsController } from './svix-endpoints.controller';
import { SvixEndpoints } from './svix-endpoints.service';
import { SvixEventTypesController } from './svix-event-types.controller';
import { SvixExamples } from './svix-examples.service';
import { SvixMessagesController } from './svix-messages.controller';
import { SvixMessages } from './svix-messages.service';

/**
 * Svix's API under /api/v1, translated onto Herald's own services and tables (no second data model):
 * applications are tenants, messages are events, attempts and destinations are deliveries and attempts.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Tenant, Endpoint, HeraldEvent, Delivery, DeliveryAttempt, IdempotentResponse]),
    AuthModule,
    TenantsModule,
    EndpointsModule,
    EventsModule,
    DeliveriesModule,
    EventTypesModule,
    PortalModule,
  ],
  controllers: [SvixApplicationsController, SvixHealthController, SvixEndpointsController, SvixMessagesController, SvixEventTypesController],
  providers: [SvixAuthGuard, IdempotencyStore, IdempotencyInterceptor, SvixApplications, SvixEndpoints, SvixMessages, SvixExamples],
})
export class SvixModule {}
