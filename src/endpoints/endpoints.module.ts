import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointCache } from './endpoint-cache';
import { EndpointHealthStore } from './endpoint-health.store';
import { Endpoint } from './endpoint.entity';
import { EndpointsService } from './endpoints.service';

@Module({
  imports: [TypeOrmModule.forFeature([Endpoint])],
  providers: [EndpointsService, EndpointCache, EndpointHealthStore],
  exports: [EndpointsService, EndpointCache, EndpointHealthStore],
})
export class EndpointsModule {}
