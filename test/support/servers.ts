import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { runMigrations } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config';
import { freePort } from './herald';
import { waitFor } from './wait';

/**
 * PostgreSQL and Redis servers of a test's own, on free ports, from the installed binaries, so that a
 * chaos test can kill, flush or restart them without disturbing anything else on the machine.
 */

const run = promisify(execFile);
const PG_BIN = process.env.TEST_PG_BIN || '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid?.() === 0;

/** As root, PostgreSQL's programs must run as the postgres user. */
function pgCommand(program: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, program);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

async function pg(program: string, args: string[]): Promise<string> {
  const [file, argv] = pgCommand(program, args);
  const { stdout } = await run(file, argv, { timeout: 60_000 });
  return stdout;
}

export class PostgresServer {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** initdb into a temporary directory, then start; trust auth, loopback TCP only. */
  static async start(): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), 'herald-chaos-pg-'));
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const server = new PostgresServer(await freePort(), dir);
    await pg('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await server.resume();
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * Starts (again) on the same port and data. fsync is off: these tests kill processes, not the
   * machine, and a committed transaction survives a PostgreSQL crash without it.
   */
  async resume(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200`;
    await pg('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  }

  /** `immediate` is a crash: no checkpoint, every connection cut at once. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']).catch(() => undefined);
  }

  /**
   * SIGSTOP (or SIGCONT) to the server and every backend: a server that accepts connections but never
   * answers, as behind a dead network path, so clients meet their connect and statement timeouts.
   */
  freeze(resume = false): void {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    for (const pid of [postmaster, ...children]) process.kill(pid, resume ? 'SIGCONT' : 'SIGSTOP');
  }

  /** A new database on this server, migrated. */
  async createDatabase(name = `herald_chaos_${Date.now().toString(36)}`): Promise<string> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: this.url(name) }));
    return this.url(name);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class RedisServer {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, empty: this Redis keeps nothing on disk, like production's. */
  async resume(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir(), '--loglevel', 'warning'], {
      stdio: 'ignore',
    });
    this.child = child;
    await waitFor(`redis-server on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return (await this.cli('PING').catch(() => '')) === 'PONG';
    }, 10_000, 50);
  }

  /** kill -9: every connection drops and every key is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  cli(...args: string[]): Promise<string> {
    return run('redis-cli', ['-p', String(this.port), ...args], { timeout: 5000 }).then(({ stdout }) => stdout.trim());
  }

  async flushAll(): Promise<void> {
    await this.cli('FLUSHALL');
  }

  async destroy(): Promise<void> {
    await this.kill();
  }
}
