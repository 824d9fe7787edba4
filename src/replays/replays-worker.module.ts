import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OperatorEventsModule } from '../operator-events/operator-events.module';
import { ReplayRunner } from './replay-runner';
import { Replay } from './replay.entity';

/** What only the worker role runs of replays: the runner. */
@Module({
  imports: [TypeOrmModule.forFeature([Replay]), OperatorEventsModule],
  providers: [ReplayRunner],
})
export class ReplaysWorkerModule {}
