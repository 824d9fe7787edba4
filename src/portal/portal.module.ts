import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PortalSession } from './portal-session.entity';
import { PortalSessionsService } from './portal-sessions.service';

/** Portal links for a tenant's customers; the AuthGuard asks PortalSessionsService about hpt_ tokens. */
@Module({
  imports: [TypeOrmModule.forFeature([PortalSession])],
  providers: [PortalSessionsService],
  exports: [PortalSessionsService],
})
export class PortalModule {}
