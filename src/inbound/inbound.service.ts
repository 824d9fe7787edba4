import { Inject, Injectable } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { isForeignKeyViolation } from '../common/error.filter';
import { NotFoundError, PayloadTooLargeError, UnauthorizedError } from '../common/errors';
import { EventsService } from '../events/events.service';
import { InboundAcceptedView } from './dto/source.dto';
import { forwardableHeaders, inboundEventType, inboundPayload, providerIdempotencyKey } from './inbound-event';
import { SourceFailureWatch } from '../operator-events/source-failure-watch';
import { SourceCache } from './source-cache';
import { SourceRequestEntry, SourceRequestLog } from './source-request-log';
import { Verification, verifyInbound } from './verifiers';

export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

type Outcome = Pick<SourceRequestEntry, 'accepted' | 'statusCode' | 'reason' | 'eventId' | 'eventType' | 'providerEventId' | 'duplicate'>;

/**
 * Receives third-party webhooks: verifies the raw body, then publishes through the same path as the REST API.
 * As cheap as publishing: the source and its opened verifier come from a per-process cache, and the request
 * log is written in groups after the answer.
 */
@Injectable()
export class InboundService {
  constructor(
    private readonly sources: SourceCache,
    private readonly requestLog: SourceRequestLog,
    private readonly events: EventsService,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly failureWatch: SourceFailureWatch,
  ) {}

  async receive(sourceId: string, request: ReceivedRequest): Promise<InboundAcceptedView> {
    const receivedAt = new Date();
    const opened = await this.sources.get(sourceId);
    if (!opened) throw new NotFoundError('source', sourceId);
    const { source, verifier } = opened;
    const contentType = headerValue(request.headers['content-type']);
    const log = (outcome: Outcome) =>
      this.requestLog.record({ tenantId: source.tenantId, sourceId: source.id, receivedAt, contentType: contentType ?? null, bodyBytes: request.rawBody.length, ...outcome });
    const rejected = { accepted: false, eventId: null, eventType: null, providerEventId: null, duplicate: false };

    if (request.rawBody.length > this.config.maxPayloadBytes) {
      const error = new PayloadTooLargeError(`the body is larger than ${this.config.maxPayloadBytes} bytes`);
      log({ ...rejected, statusCode: 413, reason: error.message });
      throw error;
    }

    const verification: Verification = verifier
      ? verifyInbound(verifier, { headers: request.headers, rawBody: request.rawBody, now: receivedAt })
      : { ok: false, reason: 'verifier configuration error' };
    if (!verification.ok || !verifier) {
      const reason = verification.ok ? 'verifier configuration error' : verification.reason;
      log({ ...rejected, statusCode: 401, reason });
      this.failureWatch.failed(source, reason);
      throw new UnauthorizedError(`the request could not be verified: ${reason}`);
    }

    this.failureWatch.verified(source.id);
    const eventType = inboundEventType(verification.eventType, source);
    const providerEventId = verification.providerEventId?.slice(0, 256) ?? null;
    const published = await this.events
      .publishRaw({
        tenantId: source.tenantId,
        eventType,
        payload: inboundPayload(request.rawBody, contentType),
        idempotencyKey: verification.providerEventId ? providerIdempotencyKey(source.id, verification.providerEventId) : undefined,
        sourceHeaders: forwardableHeaders(request.headers, verifier),
      })
      .catch((error: unknown) => {
        // The cached source outlived its tenant (deleted through another process moments ago).
        if (!isForeignKeyViolation(error)) throw error;
        this.sources.forget(source.id);
        throw new NotFoundError('source', sourceId);
      });
    // An event created before this request arrived can only be the provider's earlier copy of it.
    const duplicate = Date.parse(published.createdAt) < receivedAt.getTime();
    // Only now, with the event committed, does the log say it was accepted.
    log({ accepted: true, statusCode: 200, reason: null, eventId: published.id, eventType: published.eventType, providerEventId, duplicate });
    return { eventId: published.id, duplicate };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
