import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { EventsModule } from '../events/events.module';
import { Tenant } from '../tenants/tenant.entity';
import { OperatorEvents } from './operator-events';
import { SourceFailureWatch } from './source-failure-watch';

@Module({
  imports: [TypeOrmModule.forFeature([Tenant]), EventsModule, EndpointsModule],
  providers: [OperatorEvents, SourceFailureWatch],
  exports: [OperatorEvents, SourceFailureWatch],
})
export class OperatorEventsModule {}
