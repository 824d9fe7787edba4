import { Module } from '@nestjs/common';
import { ApiKeysController } from './auth/api-keys.controller';
import { AuthModule } from './auth/auth.module';
import { DeliveriesController } from './deliveries/deliveries.controller';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { EndpointsController } from './endpoints/endpoints.controller';
import { EndpointsModule } from './endpoints/endpoints.module';
import { EventTypesController } from './event-types/event-types.controller';
import { EventTypesModule } from './event-types/event-types.module';
import { EventsController } from './events/events.controller';
import { EventsModule } from './events/events.module';
import { InboundController } from './inbound/inbound.controller';
import { ReplaysController } from './replays/replays.controller';
import { ReplaysModule } from './replays/replays.module';
import { InboundModule } from './inbound/inbound.module';
import { PortalSessionsController } from './portal/portal-sessions.controller';
import { PortalModule } from './portal/portal.module';
import { SourcesController } from './inbound/sources.controller';
import { SvixModule } from './svix/svix.module';
import { TenantsController } from './tenants/tenants.controller';
import { TenantsModule } from './tenants/tenants.module';

/** The REST API (HERALD_ROLE=api or all): the feature modules' controllers behind the auth guard. */
@Module({
  imports: [AuthModule, TenantsModule, EndpointsModule, EventsModule, DeliveriesModule, InboundModule, ReplaysModule, PortalModule, EventTypesModule, SvixModule],
  controllers: [TenantsController, ApiKeysController, EndpointsController, EventsController, DeliveriesController, SourcesController, InboundController, ReplaysController, PortalSessionsController, EventTypesController],
})
export class ApiModule {}
