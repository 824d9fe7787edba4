import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { Page } from '../common/pagination';
import { CreateEventTypeDto, EventTypeQuery, EventTypeView, UpdateEventTypeDto } from './dto/event-type.dto';
import { EventType } from './event-type.entity';
import { compileSchema } from './json-schema';

const CACHE_TTL_MS = 5000;

/** The catalog's cursor is the last name seen (names sort; the catalog is small). */
function encodeNameCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function decodeNameCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) throw InvalidInputError.field('cursor', 'cursor is not valid; pass the nextCursor of a previous page');
  return name;
}

export interface EventTypeListOptions {
  limit: number;
  /** Names strictly after (ascending) or before (descending) this one. */
  after?: string;
  descending?: boolean;
  includeArchived: boolean;
}

@Injectable()
export class EventTypesService {
  // Publishing looks a type up on every event: a short cache keeps that off the database.
  private readonly cache = new Map<string, { type: EventType | null; at: number }>();

  constructor(@InjectRepository(EventType) private readonly types: Repository<EventType>) {}

  async create(dto: CreateEventTypeDto): Promise<EventTypeView> {
    if (await this.types.existsBy({ name: dto.name })) throw new ConflictError(`event type "${dto.name}" exists`, 'name');
    const now = new Date();
    const type = this.types.create({
      name: dto.name,
      description: dto.description ?? '',
      schema: dto.schema ?? null,
      example: dto.example ?? null,
      schemaVersion: 1,
      deprecated: dto.deprecated ?? false,
      archived: dto.archived ?? false,
      validate: dto.validate ?? false,
      createdAt: now,
      updatedAt: now,
    });
    this.check(type);
    // INSERT, never an upsert: two creates of one name race to the primary key, and the loser is told.
    const inserted: unknown[] = await this.types.query(
      `INSERT INTO event_types (name, description, schema, example, schema_version, deprecated, archived, validate, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $8) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [type.name, type.description, type.schema && JSON.stringify(type.schema), type.example && JSON.stringify(type.example), type.deprecated, type.archived, type.validate, now],
    );
    if (inserted.length === 0) throw new ConflictError(`event type "${dto.name}" exists`, 'name');
    this.forget(type.name);
    return EventTypeView.of(type);
  }

  list(query: EventTypeQuery): Promise<Page<EventTypeView>> {
    return this.page({ limit: query.limit ?? 50, after: decodeNameCursor(query.cursor), includeArchived: query.includeArchived === 'true' }).then((rows) => ({
      data: rows.data.map(EventTypeView.of),
      nextCursor: rows.more ? encodeNameCursor(rows.data[rows.data.length - 1].name) : null,
    }));
  }

  /** One page of the catalog by name, for the native and the Svix-compatible lists. */
  async page(options: EventTypeListOptions): Promise<{ data: EventType[]; more: boolean }> {
    const qb = this.types
      .createQueryBuilder('t')
      .orderBy('t.name', options.descending ? 'DESC' : 'ASC')
      .take(options.limit + 1);
    if (!options.includeArchived) qb.andWhere('t.archived = false');
    if (options.after) qb.andWhere(options.descending ? 't.name < :after' : 't.name > :after', { after: options.after });
    const rows = await qb.getMany();
    return { data: rows.slice(0, options.limit), more: rows.length > options.limit };
  }

  async get(name: string): Promise<EventType> {
    const type = await this.types.findOneBy({ name });
    if (!type) throw new NotFoundError('event type', name);
    return type;
  }

  async update(name: string, dto: UpdateEventTypeDto): Promise<EventTypeView> {
    const type = await this.get(name);
    const schemaChanged = dto.schema !== undefined && JSON.stringify(dto.schema) !== JSON.stringify(type.schema);
    if (dto.description !== undefined) type.description = dto.description;
    if (dto.schema !== undefined) type.schema = dto.schema;
    if (dto.example !== undefined) type.example = dto.example;
    if (dto.deprecated !== undefined) type.deprecated = dto.deprecated;
    if (dto.archived !== undefined) type.archived = dto.archived;
    if (dto.validate !== undefined) type.validate = dto.validate;
    if (schemaChanged) type.schemaVersion += 1;
    type.updatedAt = new Date();
    this.check(type);
    await this.types.save(type);
    this.forget(name);
    return EventTypeView.of(type);
  }

  async remove(name: string): Promise<void> {
    const type = await this.get(name);
    await this.types.delete({ name: type.name });
    this.forget(name);
  }

  /** The type as publishing sees it (null when the catalog has no such type); at most a few seconds stale. */
  async cached(name: string): Promise<EventType | null> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.type;
    const type = await this.types.findOneBy({ name });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(name, { type, at: Date.now() });
    return type;
  }

  /** The schema must compile and the example must follow it. */
  private check(type: EventType): void {
    if (!type.schema) return;
    let validate;
    try {
      validate = compileSchema(type.schema);
    } catch (error) {
      throw InvalidInputError.field('schema', `schema is not a valid JSON Schema: ${(error as Error).message}`);
    }
    if (type.example) {
      const problems = validate(type.example);
      if (problems.length) {
        throw new InvalidInputError(problems.map((p) => ({ field: 'example', pointer: p.pointer, message: `example${p.pointer === '/' ? '' : p.pointer} ${p.message}` })));
      }
    }
  }

  private forget(name: string): void {
    this.cache.delete(name);
  }
}
