import { Module } from '@nestjs/common';
import { SourceRequestPruner } from './source-request-pruner';

/** What only the worker role runs for inbound: keeping the request logs bounded. */
@Module({
  providers: [SourceRequestPruner],
  exports: [SourceRequestPruner],
})
export class InboundWorkerModule {}
