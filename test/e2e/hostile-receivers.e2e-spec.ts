import { Socket, createServer } from 'node:net';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createEndpoint, createTenant, publish } from '../support/fixtures';
import { Herald, startHerald } from '../support/herald';
import { sleep, waitFor } from '../support/wait';

/**
 * Whatever a receiver answers, the attempt is recorded once and the request is not sent again beyond the
 * retry policy: each scenario counts the requests the receiver got and the attempts logged, then checks
 * that both hold for 15 s more.
 */
type Answer = (socket: Socket) => void;

const head = (status: number, headers: Record<string, string | number>) =>
  `HTTP/1.1 ${status} X\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

const send = (status: number, body: Buffer, headers: Record<string, string | number> = {}): Answer => (socket) => {
  socket.write(head(status, { 'content-length': body.length, connection: 'close', ...headers }));
  socket.end(body);
};

const TEN_MIB = 10 * 1024 * 1024;
/** Bytes a receiver managed to write of a body Herald does not read to the end: it stops reading after 64 KiB. */
const written: Record<string, number> = {};

/** A 200 whose body is `size` bytes of 'a', pumped as fast as the socket takes it; counts what was written before Herald closed it. */
const bigBody = (name: string, size: number): Answer => (socket) => {
  socket.write(head(200, { 'content-length': size, 'content-type': 'text/plain' }));
  const chunk = Buffer.alloc(64 * 1024, 'a');
  written[name] = 0;
  const pump = () => {
    while (written[name] < size && !socket.destroyed) {
      written[name] += chunk.length;
      if (!socket.write(chunk)) return socket.once('drain', pump);
    }
    socket.end();
  };
  socket.on('error', () => undefined);
  pump();
};

const SCENARIOS: Record<string, { answer: Answer; maxAttempts: number; timeoutMs?: number; expectStatus: string; body?: (attempt: any) => void }> = {
  'a 200 with a NUL byte': {
    answer: send(200, Buffer.from('ok\u0000ok')),
    maxAttempts: 3,
    expectStatus: 'succeeded',
    body: (a) => {
      expect(a.responseBodyEncoding).toBe('base64');
      expect(Buffer.from(a.responseBody, 'base64').toString('latin1')).toBe('ok\u0000ok');
    },
  },
  'a 200 of invalid UTF-8': {
    answer: send(200, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    maxAttempts: 3,
    expectStatus: 'succeeded',
    body: (a) => expect(Buffer.from(a.responseBody, 'base64')).toEqual(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  },
  'a gzip-encoded 200': {
    answer: send(200, gzipSync('{"ok":true}'), { 'content-encoding': 'gzip', 'content-type': 'application/json' }),
    maxAttempts: 3,
    expectStatus: 'succeeded',
    body: (a) => {
      expect(a.responseBodyEncoding).toBe('base64');
      expect(a.responseHeaders['content-encoding']).toBe('gzip');
    },
  },
  'a 10 MiB 200': {
    answer: bigBody('a 10 MiB 200', TEN_MIB),
    maxAttempts: 3,
    expectStatus: 'succeeded',
    body: (a) => {
      expect(a.responseBodyEncoding).toBe('utf8');
      expect(a.responseBody).toBe('a'.repeat(4096));
    },
  },
  'a 256 MiB 200, closed long before its end': {
    answer: bigBody('a 256 MiB 200, closed long before its end', 256 * 1024 * 1024),
    maxAttempts: 3,
    expectStatus: 'succeeded',
    // Herald keeps 4 KiB, drains at most 64 KiB and then closes the connection: what the receiver got rid of
    // is what the kernel's socket buffers held, far below the body's size (and so is what Herald held).
    body: () => expect(written['a 256 MiB 200, closed long before its end']).toBeLessThan(TEN_MIB * 4),
  },
  'a 500 with a binary body': {
    answer: send(500, Buffer.from([0, 1, 2, 0xff])),
    maxAttempts: 2,
    expectStatus: 'dead',
    body: (a) => expect(a.statusCode).toBe(500),
  },
  'a body dripped a byte a second past timeoutMs': {
    answer: (socket) => {
      socket.write(head(200, { 'content-length': 100 }));
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('x')), 1000);
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => undefined);
    },
    maxAttempts: 2,
    timeoutMs: 1500,
    expectStatus: 'dead',
    body: (a) => expect(a.error).toBe('timeout'),
  },
  '24 KiB of response headers': {
    answer: (socket) => {
      const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`x-filler-${i}`, 'v'.repeat(500)]));
      socket.write(head(200, { ...many, 'content-length': 2, connection: 'close' }));
      socket.end('ok');
    },
    maxAttempts: 2,
    expectStatus: 'dead',
  },
  'a connection closed mid-body': {
    answer: (socket) => {
      socket.write(head(200, { 'content-length': 1000 }));
      socket.end('only part of it');
    },
    maxAttempts: 2,
    expectStatus: 'dead',
    body: (a) => {
      expect(a.statusCode).toBe(200);
      expect(a.error).not.toBeNull();
    },
  },
  'odd bytes in a response header': {
    answer: (socket) => {
      socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-latin: caf'), Buffer.from([0xe9]), Buffer.from('\r\nconnection: close\r\n\r\nok')]));
      socket.end();
    },
    maxAttempts: 3,
    expectStatus: 'succeeded',
  },
};

describe('hostile receivers: any answer is recorded once and sent once', () => {
  let herald: Herald;
  const servers: ReturnType<typeof createServer>[] = [];
  const requests: Record<string, number> = {};

  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await herald.close();
  });

  /** A raw TCP server: counts requests (by their request line) and answers each with `answer`. */
  async function rawReceiver(name: string, answer: Answer): Promise<string> {
    requests[name] = 0;
    const server = createServer((socket) => {
      let seen = '';
      socket.on('error', () => undefined);
      socket.on('data', (data) => {
        seen += data.toString('latin1');
        // The request body is small JSON; answer once the headers and the declared body are in.
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(seen.slice(0, end))?.[1] ?? 0);
        if (seen.length - end - 4 < length) return;
        requests[name]++;
        seen = '';
        answer(socket);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  it('records each answer, keeps what can be stored, and sends nothing again', async () => {
    const tenant = await createTenant(herald.api);
    const cases = await Promise.all(
      Object.entries(SCENARIOS).map(async ([name, scenario], index) => {
        const url = await rawReceiver(name, scenario.answer);
        const endpoint = await createEndpoint(herald.api, tenant.id, {
          url,
          eventTypes: [`hostile.${index}`],
          timeoutMs: scenario.timeoutMs ?? 5000,
          retryPolicy: { maxAttempts: scenario.maxAttempts, initialDelayMs: 200, maxDelayMs: 400, multiplier: 2 },
        });
        const event = await publish(herald.api, tenant.id, `hostile.${index}`, { scenario: name });
        return { name, scenario, endpoint, event };
      }),
    );

    const attemptsOf = async (eventId: string) => {
      const [delivery] = await herald.sql('SELECT id, status FROM deliveries WHERE event_id = $1', [eventId]);
      const list = (await herald.api.get(`/v1/tenants/${tenant.id}/deliveries/${delivery.id}/attempts`)).body.data;
      return { status: delivery.status as string, attempts: list as any[] };
    };

    for (const c of cases) {
      const expected = c.scenario.expectStatus === 'succeeded' ? 1 : c.scenario.maxAttempts;
      await waitFor(`${c.name}: ${c.scenario.expectStatus}`, async () => (await attemptsOf(c.event.id)).status === c.scenario.expectStatus, 60_000, 200);
      const { attempts } = await attemptsOf(c.event.id);
      expect({ name: c.name, attempts: attempts.length, requests: requests[c.name] }).toEqual({ name: c.name, attempts: expected, requests: expected });
      c.scenario.body?.(attempts[attempts.length - 1]);
    }

    const before = { ...requests };
    const counts = await Promise.all(cases.map(async (c) => (await attemptsOf(c.event.id)).attempts.length));
    await sleep(15_000);
    expect(requests).toEqual(before);
    expect(await Promise.all(cases.map(async (c) => (await attemptsOf(c.event.id)).attempts.length))).toEqual(counts);
  });
});
