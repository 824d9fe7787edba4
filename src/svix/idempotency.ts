import { CallHandler, ExecutionContext, Injectable, NestInterceptor, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Observable, from, lastValueFrom } from 'rxjs';
import { IsNull, Repository } from 'typeorm';
import { IdempotentResponse } from './idempotent-response.entity';
import { SvixPrincipal, principalKey } from './svix-auth';
import { SvixHttpError } from './svix-errors';

const KEEP_HOURS = 24;

/** What a key decides: run the request (and remember its answer), or answer what was answered before. */
export type IdempotencyDecision = { kind: 'run' } | { kind: 'replay'; statusCode: number; response: unknown } | { kind: 'conflict'; detail: string };

/** Pure: a stored row (or none) against this request. */
export function decide(row: Pick<IdempotentResponse, 'requestHash' | 'statusCode' | 'response'> | null, requestHash: string): IdempotencyDecision {
  if (!row) return { kind: 'run' };
  if (row.requestHash !== requestHash) return { kind: 'conflict', detail: 'this idempotency-key was used for a different request in the last 24 hours' };
  if (row.statusCode === null) return { kind: 'conflict', detail: 'a request with this idempotency-key is still in progress; retry shortly' };
  return { kind: 'replay', statusCode: row.statusCode, response: row.response };
}

export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${JSON.stringify(body ?? null)}`).digest('hex');
}

/** The 24 h memory of POST answers under /api/v1, in PostgreSQL (it outlives Redis and restarts). */
@Injectable()
export class IdempotencyStore implements OnModuleInit, OnModuleDestroy {
  private purgeTimer?: NodeJS.Timeout;

  constructor(@InjectRepository(IdempotentResponse) private readonly rows: Repository<IdempotentResponse>) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purge().catch(() => undefined), 10 * 60 * 1000);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** Claims the key for this request, or says what the earlier request with it decides. */
  async claim(principal: string, key: string, hash: string): Promise<IdempotencyDecision> {
    // An expired row is gone first, so its key is free again.
    await this.rows.query(`DELETE FROM api_idempotency WHERE principal = $1 AND key = $2 AND created_at < now() - interval '${KEEP_HOURS} hours'`, [principal, key]);
    const claimed: unknown[] = await this.rows.query(
      `INSERT INTO api_idempotency (principal, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key`,
      [principal, key, hash],
    );
    if (claimed.length) return { kind: 'run' };
    return decide(await this.rows.findOneBy({ principal, key }), hash);
  }

  async remember(principal: string, key: string, statusCode: number, response: unknown): Promise<void> {
    await this.rows.update({ principal, key }, { statusCode, response: (response ?? null) as object });
  }

  /** A failed request frees its key: a retry runs again. */
  async release(principal: string, key: string): Promise<void> {
    await this.rows.delete({ principal, key, statusCode: IsNull() });
  }

  purge(): Promise<unknown> {
    return this.rows.query(`DELETE FROM api_idempotency WHERE created_at < now() - interval '${KEEP_HOURS} hours'`);
  }
}

/**
 * Every POST under /api/v1 with an `idempotency-key` (Svix's SDKs send one on every POST and retry 5xx
 * and network errors with it): the same key and the same request within 24 h get the first answer again;
 * the same key with another request is 409. Errors are not remembered, so a retry after one runs again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { svixPrincipal?: SvixPrincipal }>();
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (request.method !== 'POST' || !key || !request.svixPrincipal) return next.handle();
    if (key.length > 256) throw new SvixHttpError(400, 'generic_error', 'idempotency-key must be at most 256 characters');
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.run(request, reply, principalKey(request.svixPrincipal), key, next));
  }

  private async run(request: FastifyRequest, reply: FastifyReply, principal: string, key: string, next: CallHandler): Promise<unknown> {
    const decision = await this.store.claim(principal, key, requestHash(request.method, request.url, request.body));
    if (decision.kind === 'conflict') throw new SvixHttpError(409, 'idempotency_conflict', decision.detail);
    if (decision.kind === 'replay') {
      void reply.status(decision.statusCode);
      return decision.response;
    }
    try {
      const response = await lastValueFrom(next.handle(), { defaultValue: null });
      await this.store.remember(principal, key, reply.statusCode, response);
      return response;
    } catch (error) {
      await this.store.release(principal, key).catch(() => undefined);
      throw error;
    }
  }
}
