import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PortalModule } from '../portal/portal.module';
import { TenantsModule } from '../tenants/tenants.module';
import { ApiKey } from './api-key.entity';
import { ApiKeysService } from './api-keys.service';
import { AuthGuard } from './auth.guard';
import { Authenticator } from './authenticator';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey]), TenantsModule, PortalModule],
  providers: [ApiKeysService, Authenticator, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ApiKeysService, Authenticator],
})
export class AuthModule {}
