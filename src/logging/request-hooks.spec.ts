import { Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import pino from 'pino';
import { logOptions } from './log-format';
import { logCompleted, logWithRequestId, requestStore } from './request-hooks';

function capture(level: 'info' | 'warn' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, next) {
      lines.push(JSON.parse(chunk.toString()));
      next();
    },
  });
  return { root: pino(logOptions(level), stream), lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('request log hooks', () => {
  it('binds the lines written inside a request to its id, and only those', async () => {
    const { root, lines } = capture();
    const nest = new PinoLogger({ pinoHttp: { logger: root } });
    logWithRequestId(root)({ id: 'req-1' } as FastifyRequest, {} as FastifyReply, () => {
      nest.info('inside');
      nest.assign({ tenantId: 'tnt_1' });
      nest.info('assigned');
    });
    nest.info('outside');
    await flush();
    expect(lines.map((l) => [l.msg, l.requestId, l.tenantId])).toEqual([
      ['inside', 'req-1', undefined],
      ['assigned', 'req-1', 'tnt_1'],
      ['outside', undefined, undefined],
    ]);
  });

  it('makes no child logger for a request that writes nothing', () => {
    const { root } = capture();
    const child = jest.spyOn(root, 'child');
    const store = requestStore(root, 'req-2');
    storage.run(store, () => undefined);
    expect(child).not.toHaveBeenCalled();
    expect(store.logger.bindings()).toEqual({ requestId: 'req-2' });
    expect(child).toHaveBeenCalledTimes(1);
  });

  it('writes one line per completed request: method, path without its query, status, duration; error for a 5xx', async () => {
    const { root, lines } = capture();
    const hook = logCompleted(root);
    const done = jest.fn();
    const request = (url: string) => ({ id: 'req-3', method: 'POST', url, headers: { authorization: 'Bearer secret' } }) as unknown as FastifyRequest;
    hook(request('/v1/tenants/t/events?token=secret'), { statusCode: 202, elapsedTime: 3.4 } as FastifyReply, done);
    hook(request('/v1/tenants/t/events'), { statusCode: 503, elapsedTime: 1 } as FastifyReply, done);
    hook(request('/health/ready'), { statusCode: 200, elapsedTime: 1 } as FastifyReply, done);
    hook(request('/metrics'), { statusCode: 200, elapsedTime: 1 } as FastifyReply, done);
    await flush();
    expect(done).toHaveBeenCalledTimes(4);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'request completed', requestId: 'req-3', req: { method: 'POST', path: '/v1/tenants/t/events' }, res: { statusCode: 202 }, durationMs: 3 }),
      expect.objectContaining({ level: 'error', res: { statusCode: 503 } }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('writes nothing below its level', async () => {
    const { root, lines } = capture('warn');
    logCompleted(root)({ id: 'r', method: 'GET', url: '/v1/tenants' } as FastifyRequest, { statusCode: 200, elapsedTime: 1 } as FastifyReply, () => undefined);
    await flush();
    expect(lines).toEqual([]);
  });
});
