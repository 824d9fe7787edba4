import { header, reject } from './inbound-request';
import { bytesEqual } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

/** A static key in a configured header, compared in constant time. */
export function verifyApiKey(config: ConfigOf<'api-key'>, req: InboundRequest): Verification {
  // An empty configured key must not match an empty or absent header.
  if (!config.value) return reject('invalid verifier credentials');
  const name = config.header.toLowerCase();
  const value = header(req, name);
  if (!value) return reject(`missing header ${name}`);
  return bytesEqual(Buffer.from(value), Buffer.from(config.value)) ? { ok: true } : reject('invalid api key');
}
