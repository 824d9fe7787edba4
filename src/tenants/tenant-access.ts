import { UpdateTenantDto } from './dto/tenant.dto';

/**
 * Tenant fields only the admin key may write. `uid` is the producer's id for its customer (a tenant that
 * changed it could squat another customer's uid and receive their events); `publishRateLimitPerSecond` is
 * the producer's quota; `metadata` is the producer's own record about the tenant (plan, account ids) that
 * it may trust. A tenant key may still rename its tenant.
 */
export const ADMIN_ONLY_TENANT_FIELDS = ['uid', 'publishRateLimitPerSecond', 'metadata'] as const satisfies readonly (keyof UpdateTenantDto)[];

/** The admin-only fields a change sets (present in the body, whatever the value, null included). */
export function adminOnlyFieldsIn(dto: UpdateTenantDto): string[] {
  return ADMIN_ONLY_TENANT_FIELDS.filter((field) => dto[field] !== undefined);
}
