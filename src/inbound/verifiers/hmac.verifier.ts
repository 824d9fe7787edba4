import { header, reject } from './inbound-request';
import { bytesEqual, decodeBase64, decodeHex, hmac } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

/** Generic HMAC of the raw body in a configured header, e.g. `X-Signature: sha256=<hex>`. */
export function verifyHmac(config: ConfigOf<'hmac'>, req: InboundRequest): Verification {
  if (!config.secret) return reject('invalid verifier secret');
  const name = config.header.toLowerCase();
  const value = header(req, name);
  if (!value) return reject(`missing header ${name}`);

  const prefix = config.prefix ?? '';
  if (!value.startsWith(prefix)) return reject(`malformed header ${name}`);
  const encoded = value.slice(prefix.length);
  const signature = config.encoding === 'hex' ? decodeHex(encoded) : decodeBase64(encoded);
  if (!signature) return reject(`malformed header ${name}`);

  if (!bytesEqual(signature, hmac(config.algorithm, config.secret, req.rawBody))) return reject('signature mismatch');
  return { ok: true };
}
