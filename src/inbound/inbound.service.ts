import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { CONFIG } from '../config/config.module';
import { NotFoundError, PayloadTooLargeError, UnauthorizedError } from '../common/errors';
import { isId, newId } from '../common/ids';
import { SecretBox } from '../common/secrets';
import { EventsService } from '../events/events.service';
import { InboundAcceptedView } from './dto/source.dto';
import { forwardableHeaders, inboundEventType, inboundPayload, providerIdempotencyKey } from './inbound-event';
import { SourceRequest } from './source-request.entity';
import { Source } from './source.entity';
import { SourceFailureWatch } from '../operator-events/source-failure-watch';
import { Verification, VerifierConfig, verifyInbound } from './verifiers';

/** Requests kept in each source's log; older ones are pruned. */
export const SOURCE_REQUEST_LOG_SIZE = 1000;
/** Prune a source's log on one insert in this many, to keep the ingest path light. */
const PRUNE_EVERY = 20;

export interface ReceivedRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

type LogEntry = Pick<SourceRequest, 'accepted' | 'statusCode' | 'reason' | 'eventId' | 'eventType' | 'providerEventId' | 'duplicate'>;

/** Receives third-party webhooks: verifies the raw body, then publishes through the same path as the REST API. */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);
  private inserts = 0;

  constructor(
    @InjectRepository(Source) private readonly sources: Repository<Source>,
    @InjectRepository(SourceRequest) private readonly requests: Repository<SourceRequest>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly box: SecretBox,
    @Inject(CONFIG) private readonly config: HeraldConfig,
    private readonly failureWatch: SourceFailureWatch,
  ) {}

  async receive(sourceId: string, request: ReceivedRequest): Promise<InboundAcceptedView> {
    const receivedAt = new Date();
    const source = isId(sourceId, 'src') ? await this.sources.findOneBy({ id: sourceId }) : null;
    if (!source) throw new NotFoundError('source', sourceId);
    const contentType = headerValue(request.headers['content-type']);
    const log = (entry: LogEntry) => this.log(source, receivedAt, contentType, request.rawBody.length, entry);
    const rejected = { accepted: false, eventId: null, eventType: null, providerEventId: null, duplicate: false };

    if (request.rawBody.length > this.config.maxPayloadBytes) {
      const error = new PayloadTooLargeError(`the body is larger than ${this.config.maxPayloadBytes} bytes`);
      await log({ ...rejected, statusCode: 413, reason: error.message });
      throw error;
    }

    const verifier = this.openVerifier(source);
    const verification: Verification = verifier
      ? verifyInbound(verifier, { headers: request.headers, rawBody: request.rawBody, now: receivedAt })
      : { ok: false, reason: 'verifier configuration error' };
    if (!verification.ok || !verifier) {
      const reason = verification.ok ? 'verifier configuration error' : verification.reason;
      await log({ ...rejected, statusCode: 401, reason });
      this.failureWatch.failed(source, reason);
      throw new UnauthorizedError(`the request could not be verified: ${reason}`);
    }

    this.failureWatch.verified(source.id);
    const eventType = inboundEventType(verification.eventType, source);
    const providerEventId = verification.providerEventId?.slice(0, 256) ?? null;
    const published = await this.events.publishRaw({
      tenantId: source.tenantId,
      eventType,
      payload: inboundPayload(request.rawBody, contentType),
      idempotencyKey: verification.providerEventId ? providerIdempotencyKey(source.id, verification.providerEventId) : undefined,
      sourceHeaders: forwardableHeaders(request.headers, verifier),
    });
    // An event created before this request arrived can only be the provider's earlier copy of it.
    const duplicate = Date.parse(published.createdAt) < receivedAt.getTime();
    await log({ accepted: true, statusCode: 200, reason: null, eventId: published.id, eventType: published.eventType, providerEventId, duplicate });
    return { eventId: published.id, duplicate };
  }

  private openVerifier(source: Source): VerifierConfig | undefined {
    try {
      return JSON.parse(this.box.open(source.verifierSealed)) as VerifierConfig;
    } catch {
      // A sealed config from another encryption key, or corrupted: fail closed, without details.
      this.logger.warn(`source ${source.id}: its verifier could not be opened (was HERALD_ENCRYPTION_KEY changed?)`);
      return undefined;
    }
  }

  /** The log is best effort: a failure to write it must not turn an accepted webhook into a provider retry. */
  private async log(source: Source, receivedAt: Date, contentType: string | undefined, bodyBytes: number, entry: LogEntry): Promise<void> {
    try {
      await this.requests.insert({
        id: newId('req'),
        tenantId: source.tenantId,
        sourceId: source.id,
        receivedAt,
        contentType: contentType?.slice(0, 256) ?? null,
        bodyBytes,
        ...entry,
        reason: entry.reason?.slice(0, 1000) ?? null,
      });
    } catch (error) {
      this.logger.warn(`source ${source.id}: could not log a request: ${(error as Error).message}`);
      return;
    }
    if (++this.inserts % PRUNE_EVERY === 0) void this.prune(source.id);
  }

  /** Keeps the newest SOURCE_REQUEST_LOG_SIZE requests of the source, none older than the retention period. */
  async prune(sourceId: string): Promise<void> {
    try {
      await this.db.query(
        `DELETE FROM source_requests WHERE source_id = $1 AND (
           received_at < now() - make_interval(days => $3)
           OR id <= (SELECT id FROM source_requests WHERE source_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1))`,
        [sourceId, SOURCE_REQUEST_LOG_SIZE, this.config.retentionDays],
      );
    } catch (error) {
      this.logger.warn(`source ${sourceId}: could not prune its request log: ${(error as Error).message}`);
    }
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
