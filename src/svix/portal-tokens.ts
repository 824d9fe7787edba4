import { Inject, Injectable } from '@nestjs/common';
import { createHmac, hkdfSync } from 'node:crypto';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { safeEqual } from '../common/secrets';

const PREFIX = 'hps_';

/**
 * Short-lived application-portal tokens (Svix's `auth/app-portal-access`): a tenant id and an expiry,
 * signed with a key derived from HERALD_ENCRYPTION_KEY, so every API process accepts them without storage.
 * They act as that tenant's key on /api/v1 until they expire.
 */
@Injectable()
export class PortalTokens {
  private readonly key: Buffer;

  constructor(@Inject(CONFIG) config: HeraldConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.encryptionKey, Buffer.alloc(0), 'herald portal tokens', 32));
  }

  issue(tenantId: string, expiresAt: Date): string {
    const claims = Buffer.from(JSON.stringify({ t: tenantId, exp: Math.floor(expiresAt.getTime() / 1000) })).toString('base64url');
    return `${PREFIX}${claims}.${this.sign(claims)}`;
  }

  /** The tenant id of a valid, unexpired token; null otherwise. */
  verify(token: string, now = Date.now()): string | null {
    if (!token.startsWith(PREFIX)) return null;
    const [claims, signature] = token.slice(PREFIX.length).split('.');
    if (!claims || !signature || !safeEqual(signature, this.sign(claims))) return null;
    try {
      const { t, exp } = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { t?: unknown; exp?: unknown };
      if (typeof t !== 'string' || typeof exp !== 'number' || exp * 1000 <= now) return null;
      return t;
    } catch {
      return null;
    }
  }

  private sign(claims: string): string {
    return createHmac('sha256', this.key).update(claims).digest('base64url');
  }
}
