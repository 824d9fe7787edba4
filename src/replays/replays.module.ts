import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { Replay } from './replay.entity';
import { ReplaysService } from './replays.service';

/** Durable bulk replays: created through the API (and by an endpoint's recover), run by ReplaysWorkerModule. */
@Module({
  imports: [TypeOrmModule.forFeature([Replay]), EndpointsModule],
  providers: [ReplaysService],
  exports: [ReplaysService],
})
export class ReplaysModule {}
