import { KeyObject, createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const PREFIX = 'whsec_';
/** Standard Webhooks' asymmetric keys: `whsk_` (Herald's, secret) + base64 of the seed and the public key; `whpk_` + base64 of the public key. */
const SIGNING_KEY_PREFIX = 'whsk_';
const PUBLIC_KEY_PREFIX = 'whpk_';

/** How an endpoint's requests are signed: a shared HMAC secret (`v1`) or an ed25519 key pair (`v1a`). */
export type SigningScheme = 'hmac' | 'ed25519';
export const SIGNING_SCHEMES: readonly SigningScheme[] = ['hmac', 'ed25519'];

/** A new endpoint secret: whsec_ + base64 of 32 random bytes. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** A new ed25519 signing key: whsk_ + base64 of its 32-byte seed followed by its 32-byte public key. */
export function generateSigningKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return SIGNING_KEY_PREFIX + Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]).toString('base64');
}

/** A new secret for the scheme (what is stored, sealed). */
export function generateSecretFor(scheme: SigningScheme): string {
  return scheme === 'ed25519' ? generateSigningKey() : generateSecret();
}

/** What a tenant is shown of a stored secret: an HMAC secret itself, or the public key (whpk_…) of a signing key. */
export function shownSecret(secret: string): string {
  if (!secret.startsWith(SIGNING_KEY_PREFIX)) return secret;
  return PUBLIC_KEY_PREFIX + Buffer.from(secret.slice(SIGNING_KEY_PREFIX.length), 'base64').subarray(32).toString('base64');
}

/** Null if the secret is acceptable, else why not: whsec_ + base64 of 24 to 64 bytes. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(PREFIX)) return 'secret must start with whsec_';
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return 'secret must be whsec_ followed by base64';
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) return 'secret must encode 24 to 64 random bytes';
  return null;
}

// Parsed private keys, by their whsk_ text: parsing costs more than signing.
const privateKeys = new Map<string, KeyObject>();

function privateKeyOf(signingKey: string): KeyObject {
  let key = privateKeys.get(signingKey);
  if (!key) {
    const raw = Buffer.from(signingKey.slice(SIGNING_KEY_PREFIX.length), 'base64');
    key = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: raw.subarray(0, 32).toString('base64url'), x: raw.subarray(32).toString('base64url') } });
    if (privateKeys.size >= 10_000) privateKeys.clear();
    privateKeys.set(signingKey, key);
  }
  return key;
}

/**
 * Standard Webhooks signatures over `<id>.<timestamp>.<body>`, one per secret (several during a rotation),
 * space-separated: `v1,` + base64 HMAC-SHA256 keyed with the base64-decoded part of a `whsec_` secret, or
 * `v1a,` + base64 ed25519 signature by a `whsk_` signing key.
 */
export function signWebhook(secrets: readonly string[], id: string, timestamp: number, body: string | Buffer): string {
  return secrets
    .map((secret) => {
      if (secret.startsWith(SIGNING_KEY_PREFIX)) {
        const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), typeof body === 'string' ? Buffer.from(body) : body]);
        return `v1a,${sign(null, signed, privateKeyOf(secret)).toString('base64')}`;
      }
      const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
      const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}
