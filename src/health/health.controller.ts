import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../access/access.decorators';
import { REDIS, RedisConnection } from '../redis/redis.module';

function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  @Get('live')
  @Public()
  live() {
    return { status: 'ok' };
  }

  /** Ready when PostgreSQL and Redis both answer; 503 otherwise, naming what is down. */
  @Get('ready')
  @Public()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [postgres, redis] = await Promise.all([
      within(2000, this.db.query('SELECT 1')).then(() => 'up', () => 'down'),
      within(2000, this.redis.ping()).then(() => 'up', () => 'down'),
    ]);
    const ok = postgres === 'up' && redis === 'up';
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks: { postgres, redis } };
  }
}
