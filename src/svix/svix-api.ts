import { applyDecorators, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/access.decorators';
import { IdempotencyInterceptor } from './idempotency';
import { SvixAuthGuard } from './svix-auth';
import { SvixErrorFilter } from './svix-errors';

/**
 * A controller of the Svix-compatible API: Svix's authentication (Herald's own guard steps aside), its
 * error bodies, and idempotent POSTs.
 */
export function SvixApi() {
  return applyDecorators(
    Public(),
    UseGuards(SvixAuthGuard),
    UseFilters(SvixErrorFilter),
    UseInterceptors(IdempotencyInterceptor),
    ApiTags('svix-compatible (/api/v1)'),
    ApiBearerAuth(),
  );
}
