import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { newId } from '../common/ids';
import { parseTime } from '../common/time';
import { EndpointsService } from '../endpoints/endpoints.service';
import { Tenant } from '../tenants/tenant.entity';
import { CreateReplayDto, ReplayView } from './dto/replay.dto';
import { candidateFilter } from './replay-selection';
import { Replay } from './replay.entity';

export function replayView(r: Replay): ReplayView {
  return {
    id: r.id,
    status: r.status,
    total: r.total,
    done: r.done,
    queued: r.queued,
    since: r.since.toISOString(),
    until: r.until.toISOString(),
    endpointId: r.endpointId,
    eventTypes: r.eventTypes,
    statuses: r.statuses,
    missing: r.missing,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt ? r.finishedAt.toISOString() : null,
  };
}

/** Replays as the API sees them: created here, run by ReplayRunner in the worker role. */
@Injectable()
export class ReplaysService {
  constructor(
    @InjectRepository(Replay) private readonly replays: Repository<Replay>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly endpoints: EndpointsService,
  ) {}

  /** Records the replay and counts its candidates; a worker takes it from there. */
  async create(tenant: Tenant, dto: CreateReplayDto): Promise<Replay> {
    const since = parseTime('since', dto.since)!;
    const until = parseTime('until', dto.until) ?? new Date();
    if (since >= until) throw InvalidInputError.field('since', 'since must be before until');
    if (dto.missing && !dto.endpointId) throw InvalidInputError.field('endpointId', 'endpointId is required with missing: true');
    const endpoint = dto.endpointId ? await this.endpoints.get(tenant, dto.endpointId) : null;
    const replay = this.replays.create({
      id: newId('rpl'),
      tenantId: tenant.id,
      endpointId: endpoint?.id ?? null,
      since,
      until,
      eventTypes: dto.eventTypes?.length ? dto.eventTypes : null,
      statuses: dto.status ?? ['dead', 'failed'],
      missing: dto.missing === true,
      status: 'running',
      done: 0,
      queued: 0,
      position: null,
      error: null,
      leaseUntil: null,
      finishedAt: null,
    });
    const { where, params } = candidateFilter(replay, replay.missing ? 'e' : 'd', replay.endpointId ?? undefined);
    const [{ count }]: { count: number }[] = await this.db.query(`SELECT count(*)::int AS count FROM ${replay.missing ? 'events e' : 'deliveries d'} WHERE ${where}`, params);
    replay.total = count;
    const now = new Date();
    Object.assign(replay, { createdAt: now, updatedAt: now });
    if (count === 0) Object.assign(replay, { status: 'done', finishedAt: now });
    await this.replays.save(replay);
    return replay;
  }

  async get(tenant: Tenant, id: string): Promise<Replay> {
    const replay = await this.replays.findOneBy({ tenantId: tenant.id, id });
    if (!replay) throw new NotFoundError('replay', id);
    return replay;
  }

  /** Stops a running replay after the page in progress; what it already resent stays resent. */
  async cancel(tenant: Tenant, id: string): Promise<Replay> {
    const replay = await this.get(tenant, id);
    const [, changed] = await this.db.query(`UPDATE replays SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE id = $1 AND status = 'running'`, [replay.id]);
    if (!changed) throw new ConflictError(`replay ${replay.id} is ${replay.status}, not running`, 'status');
    return this.get(tenant, id);
  }
}
