import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, request } from 'undici';
import { AllowList, isAddressAllowed, stripBrackets } from '../common/address-guard';
import { StopNotice } from '../common/stop-notice';
import { BodyEncoding, keepBody, keepHeaders } from './response-record';

/**
 * The outbound HTTP sender (DESIGN.md principle 7): one POST per delivery attempt through a single
 * keep-alive undici Agent, no redirects, a hard deadline on the whole attempt, the response body
 * read up to 4 KiB, and every connection's address vetted after DNS.
 */

export interface SendRequest {
  url: string;
  /** Sent as given; `user-agent` and `content-type` are added only when absent. */
  headers: Record<string, string>;
  body: string | Buffer;
  /** Hard deadline for the whole attempt: DNS, connect, TLS, headers and body. */
  timeoutMs: number;
}

/**
 * `error` is null only when a complete response arrived within the deadline (whatever its status).
 * `statusCode` is set whenever response headers arrived, so a receiver that answers and then
 * stalls or drops the body yields e.g. `{statusCode: 200, error: 'timeout'}`: not a success.
 */
export interface SendResult {
  statusCode: number | null;
  /** The first 4 KiB of the body, as text or (when it is not storable text) base64: see responseBodyEncoding. */
  responseBody: string | null;
  responseBodyEncoding: BodyEncoding | null;
  responseHeaders: Record<string, string> | null;
  /** Headers whose values are kept as base64 (they held control characters). */
  responseHeadersBase64: string[] | null;
  /** Herald itself cut the attempt off (a stop that ran out of grace): not the receiver's failure. */
  abortedByHerald?: boolean;
  error: string | null;
  durationMs: number;
  retryAfterMs: number | null;
}

export interface HttpSenderOptions {
  allow: AllowList;
  userAgent: string;
  /** Extra trusted CA certificate(s) in PEM, added to Node's roots (tests, private PKI). */
  ca?: string;
}

export const MAX_RESPONSE_BODY_BYTES = 4096;
/** Past the kept 4 KiB, a small remainder is read and dropped so the socket stays reusable; more closes it. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
/** TCP + TLS handshake bound for a connection, which may outlive the attempt that opened it. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Thrown by the connector; its code is the attempt's `error`. */
export class BlockedAddressError extends Error {
  readonly code = 'blocked_address';
  constructor(readonly host: string, readonly address: string) {
    super(`refusing to connect to ${host} (${address}): not a public address`);
  }
}

class DeadlineError extends Error {
  readonly code = 'timeout';
}

class StoppedError extends Error {
  readonly code = 'aborted_by_herald';
}

/**
 * An attempt's abort, as undici takes it: an EventEmitter with `aborted`, `reason` and an 'abort' event (undici's
 * documented alternative to an AbortSignal). An AbortController with one listener costs ~3 µs in Node 20 (its
 * EventTarget), this ~0.1 µs: the worker makes one per attempt, thousands a second.
 */
class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

export class HttpSender {
  private readonly agent: Agent;
  private readonly allow: AllowList;
  private readonly userAgent: string;

  constructor(options: HttpSenderOptions) {
    this.allow = options.allow;
    this.userAgent = options.userAgent;
    const connectSocket = buildConnector({
      timeout: CONNECT_TIMEOUT_MS,
      ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
    });
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connections: null, // per-endpoint concurrency is capped upstream (maxInFlight)
      pipelining: 1,
      // The guard sits here, not at registration: DNS answers change, so every new connection
      // resolves the name itself and connects only to an address it has just vetted.
      connect: (opts, callback) => {
        resolveAllowed(opts.hostname, this.allow).then(
          (address) => {
            const host = stripBrackets(opts.hostname);
            // Connect to the vetted IP, but let SNI and certificate checks use the name.
            const servername = opts.servername || (isIP(host) ? undefined : host);
            try {
              connectSocket({ ...opts, hostname: address, servername }, callback);
            } catch (err) {
              callback(err as Error, null); // bad TLS options throw before any socket exists
            }
          },
          (err: Error) => callback(err, null),
        );
      },
    });
  }

  /** `stop` aborts the attempt from outside (a stop out of grace); the result then says `abortedByHerald`. */
  async send(req: SendRequest, stop?: StopNotice): Promise<SendResult> {
    const started = performance.now();
    const abort = new AttemptAbort();
    let responded = false;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    // Like the deadline, a stop must settle an attempt still in DNS or connect, where undici ignores the abort.
    let rejectStopped: (error: Error) => void = () => undefined;
    const stoppedEarly = new Promise<never>((_, reject) => (rejectStopped = reject));
    stoppedEarly.catch(() => undefined);
    const onStop = () => {
      stopped = true;
      const error = new StoppedError('the worker stopped before the attempt finished');
      abort.abort(error);
      if (!responded) rejectStopped(error);
    };
    const stopListening = stop?.listen(onStop);
    // undici honours an abort only once the request is on a socket, so a deadline passing during
    // DNS or connect must settle the attempt itself; after the headers, the abort ends the body read.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new DeadlineError(`no complete response within ${req.timeoutMs} ms`);
        abort.abort(err);
        if (!responded) reject(err);
      }, req.timeoutMs);
    });

    try {
      const res = await Promise.race([
        request(req.url, {
          dispatcher: this.agent,
          method: 'POST',
          headers: this.headersFor(req.headers),
          body: req.body,
          signal: abort,
        }),
        deadline,
        stoppedEarly,
      ]);
      responded = true;
      const flat = flattenHeaders(res.headers);
      const retryAfter = flat['retry-after'];
      const retryAfterMs = retryAfter === undefined ? null : parseRetryAfter(retryAfter);
      let error: string | null = null;
      let read: CappedBody;
      try {
        read = await readCapped(res.body, MAX_RESPONSE_BODY_BYTES, DRAIN_LIMIT_BYTES);
      } catch (err) {
        read = (err as PartialBodyError).partial ?? { kept: Buffer.alloc(0), cutShort: false };
        error = classifyError(err);
      }
      const body = keepBody(read.kept, read.cutShort);
      const headers = keepHeaders(flat);
      return {
        statusCode: res.statusCode,
        responseBody: body.body,
        responseBodyEncoding: body.encoding,
        responseHeaders: headers.headers,
        responseHeadersBase64: headers.base64.length ? headers.base64 : null,
        error,
        durationMs: performance.now() - started,
        retryAfterMs,
        ...(stopped ? { abortedByHerald: true } : {}),
      };
    } catch (err) {
      return {
        statusCode: null,
        responseBody: null,
        responseBodyEncoding: null,
        responseHeaders: null,
        responseHeadersBase64: null,
        error: classifyError(err),
        durationMs: performance.now() - started,
        retryAfterMs: null,
        ...(stopped ? { abortedByHerald: true } : {}),
      };
    } finally {
      clearTimeout(timer);
      stopListening?.();
    }
  }

  /**
   * Closes every connection. Call it once in-flight sends have settled (each does by its
   * deadline): what undici still holds then is work those sends gave up on, such as a connect
   * outliving its attempt, so it is destroyed rather than awaited for up to CONNECT_TIMEOUT_MS.
   */
  close(): Promise<void> {
    return this.agent.destroy();
  }

  private headersFor(given: Record<string, string>): Record<string, string> {
    let hasUserAgent = false;
    let hasContentType = false;
    for (const name of Object.keys(given)) {
      const lower = name.toLowerCase();
      if (lower === 'user-agent') hasUserAgent = true;
      else if (lower === 'content-type') hasContentType = true;
    }
    if (hasUserAgent && hasContentType) return given;
    return {
      ...(hasUserAgent ? {} : { 'user-agent': this.userAgent }),
      ...(hasContentType ? {} : { 'content-type': 'application/json' }),
      ...given,
    };
  }
}

/**
 * Resolves `hostname` to the address to connect to, refusing with `blocked_address` if the literal,
 * or ANY address the name resolves to, is not allowed: a name with one public and one internal
 * record must not be usable to reach the internal one.
 */
export async function resolveAllowed(hostname: string, allow: AllowList): Promise<string> {
  const host = stripBrackets(hostname);
  if (isIP(host)) {
    if (!isAddressAllowed(host, allow)) throw new BlockedAddressError(host, host);
    return host;
  }
  const addresses = await lookup(host, { all: true });
  if (addresses.length === 0) throw Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' });
  for (const { address } of addresses) {
    if (!isAddressAllowed(address, allow)) throw new BlockedAddressError(host, address);
  }
  return addresses[0].address;
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP-date; null when unparseable. */
export function parseRetryAfter(value: string, now: number = Date.now()): number | null {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const ms = Number(v) * 1000;
    return Number.isFinite(ms) ? ms : null;
  }
  // All three HTTP-date formats start with a day name; this keeps Date.parse's leniency out.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const TIMEOUT_CODES = new Set(['timeout', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|HOSTNAME_MISMATCH$|ERR_TLS$)/;
const MAX_ERROR_LENGTH = 200;

/** Maps a failed attempt's error to the attempt `error` vocabulary of API.md. */
export function classifyError(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined) {
    if (code === 'blocked_address') return 'blocked_address';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (code === 'ECONNREFUSED') return 'connection_refused';
    if (DNS_CODES.has(code)) return 'dns';
    if (TLS_CODE.test(code)) return 'tls';
    if (RESET_CODES.has(code)) return 'connection_reset';
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host_unreachable';
  }
  const message = err instanceof Error ? err.message : String(err);
  return (message || code || 'unknown_error').slice(0, MAX_ERROR_LENGTH);
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return undefined;
}

/** undici gives `string | string[]`; attempts store one string per header. */
function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

interface CappedBody {
  kept: Buffer;
  /** More arrived (or was on its way) than was kept. */
  cutShort: boolean;
}

interface PartialBodyError extends Error {
  partial?: CappedBody;
}

/**
 * Keeps the first `cap` bytes. Reads on to the end while the body stays under `drainLimit`, so the
 * connection goes back to the pool; past that, destroys the body (and so the connection) rather
 * than download it. On a failure the bytes kept so far ride along on the error as `partial`.
 */
function readCapped(body: Readable, cap: number, drainLimit: number): Promise<CappedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      resolve({ kept: Buffer.concat(chunks, kept), cutShort: seen > kept });
    };
    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < cap) {
        const part = chunk.length <= cap - kept ? chunk : chunk.subarray(0, cap - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > drainLimit) {
        done();
        body.destroy();
      }
    });
    body.on('end', done);
    body.on('error', (err: Error) => {
      if (settled) return; // our own destroy() above
      settled = true;
      const wrapped: PartialBodyError = new Error(err.message, { cause: err });
      wrapped.partial = { kept: Buffer.concat(chunks, kept), cutShort: true };
      reject(wrapped);
    });
    body.on('close', done); // closed without 'end' or 'error': keep what arrived
  });
}
