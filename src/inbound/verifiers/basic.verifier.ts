import { header, reject } from './inbound-request';
import { bytesEqual, decodeBase64 } from './signature';
import { ConfigOf, InboundRequest, Verification } from './verifier.types';

export const BASIC_SENSITIVE_HEADERS = ['authorization'];

/** `Authorization: Basic base64(user:pass)` (RFC 7617); the password may itself contain ':'. */
export function verifyBasic(config: ConfigOf<'basic'>, req: InboundRequest): Verification {
  // An empty configured password would let anyone in who guesses the username.
  if (!config.password) return reject('invalid verifier credentials');
  const value = header(req, 'authorization');
  if (!value) return reject('missing header authorization');

  const match = /^basic\s+(\S+)$/i.exec(value);
  const decoded = match ? decodeBase64(match[1])?.toString('utf8') : undefined;
  const colon = decoded?.indexOf(':') ?? -1;
  if (decoded === undefined || colon < 0) return reject('malformed header authorization');

  // Both halves are always compared, so timing does not tell which one was wrong.
  const userOk = bytesEqual(Buffer.from(decoded.slice(0, colon)), Buffer.from(config.username));
  const passwordOk = bytesEqual(Buffer.from(decoded.slice(colon + 1)), Buffer.from(config.password));
  return userOk && passwordOk ? { ok: true } : reject('invalid credentials');
}
