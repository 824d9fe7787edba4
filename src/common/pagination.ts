import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { InvalidInputError } from './errors';
import { isId } from './ids';

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 250, default: 50, description: 'page size' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(250)
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque cursor from the previous page\'s `nextCursor`' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are the last id seen, made opaque. Ids are time-sortable, so "id < cursor" is stable under inserts. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId(id)) throw InvalidInputError.field('cursor', 'cursor is not valid; pass the nextCursor of a previous page');
  return id;
}

/** Builds a page from rows fetched with limit + 1. */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), nextCursor: more ? encodeCursor(kept[kept.length - 1].id) : null };
}
