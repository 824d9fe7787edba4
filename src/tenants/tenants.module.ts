import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantChanges } from './tenant-changes';
import { Tenant } from './tenant.entity';
import { TenantsService } from './tenants.service';

/** Tenant data. Its HTTP routes are registered by ApiModule, so the worker role loads no controllers. */
@Module({
  imports: [TypeOrmModule.forFeature([Tenant])],
  providers: [TenantsService, TenantChanges],
  exports: [TenantsService, TenantChanges],
})
export class TenantsModule {}
