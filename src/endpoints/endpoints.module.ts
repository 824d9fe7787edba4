import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointCache } from './endpoint-cache';
import { Endpoint } from './endpoint.entity';
import { EndpointsService } from './endpoints.service';

@Module({
  imports: [TypeOrmModule.forFeature([Endpoint])],
  providers: [EndpointsService, EndpointCache],
  exports: [EndpointsService, EndpointCache],
})
export class EndpointsModule {}
