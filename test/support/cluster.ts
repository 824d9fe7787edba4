import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait';

/**
 * A Redis Cluster of a test's own (scripts/redis-cluster.sh on free ports, a short cluster-node-timeout
 * so a failover takes about a second), with the faults the chaos tests need: kill -9 of a node, its
 * restart, a flush of every master. `destroy()` stops every node and removes the files.
 */

const run = promisify(execFile);
const SCRIPT = join(__dirname, '../../scripts/redis-cluster.sh');

export interface ClusterNodeInfo {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** The master a replica follows. */
  masterId?: string;
  /** Slot ranges a master serves. */
  slots: [number, number][];
  up: boolean;
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` ports whose cluster-bus port (+10000) is free too, both below Linux's ephemeral range (32768 up),
 * so that an outgoing connection of another process cannot take one between this check and the bind.
 */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 10000 + Math.floor(Math.random() * 12500);
    if (ports.includes(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) ports.push(port);
  }
  return ports;
}

export class RedisClusterServer {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** 3 masters, `replicas` replicas each; every slot covered and every node agreeing before it returns. */
  static async start(options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}): Promise<RedisClusterServer> {
    // A port found free can still be taken before redis-server binds it (other test runs share the box): new ports, up to 3 times.
    for (let attempt = 1; ; attempt++) {
      try {
        return await RedisClusterServer.startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !/Address already in use|does not answer/.test(String((error as { stderr?: string }).stderr ?? error))) throw error;
      }
    }
  }

  private static async startOnce({ masters = 3, replicas = 1, nodeTimeoutMs = 1000 } = {}): Promise<RedisClusterServer> {
    const ports = await freeClusterPorts(masters * (1 + replicas));
    const dir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
    const env = {
      ...process.env,
      REDIS_CLUSTER_PORTS: ports.join(','),
      REDIS_CLUSTER_REPLICAS: String(replicas),
      REDIS_CLUSTER_NODE_TIMEOUT: String(nodeTimeoutMs),
      REDIS_CLUSTER_DIR: dir,
    };
    const cluster = new RedisClusterServer(ports, dir, env);
    try {
      await run('bash', [SCRIPT, 'start'], { env, timeout: 120_000 });
      await cluster.waitHealthy();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** REDIS_URL for Herald: the seed nodes are the first three; the rest are discovered. */
  get url(): string {
    return `redis+cluster://${this.ports
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(',')}`;
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 }).then(({ stdout }) => stdout.trim());
  }

  /** The cluster as the first live node sees it (CLUSTER NODES). */
  async nodes(): Promise<ClusterNodeInfo[]> {
    let text = '';
    for (const port of this.ports) {
      text = await this.cli(port, 'CLUSTER', 'NODES').catch(() => '');
      if (text && !text.startsWith('ERR') && !text.includes('Could not connect')) break;
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, address, flags, master, , , , , ...slots] = line.split(' ');
        return {
          id,
          port: Number(/:(\d+)@/.exec(address)![1]),
          role: flags.includes('master') ? 'master' : 'replica',
          masterId: master === '-' ? undefined : master,
          slots: slots.filter((s) => /^\d/.test(s)).map((s) => (s.includes('-') ? (s.split('-').map(Number) as [number, number]) : [Number(s), Number(s)])),
          up: !/fail/.test(flags) && !/disconnected/.test(line),
        } as ClusterNodeInfo;
      });
  }

  /** The master serving `slot` now. */
  async masterOf(slot: number): Promise<ClusterNodeInfo> {
    const master = (await this.nodes()).find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  async replicasOf(master: ClusterNodeInfo): Promise<ClusterNodeInfo[]> {
    return (await this.nodes()).filter((n) => n.masterId === master.id);
  }

  /** kill -9 of one node: its connections drop and, with nothing on disk, its data is gone. */
  async kill(port: number): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, String(port), 'redis.pid'), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return; // already gone
    }
    await waitFor(`redis ${port} to die`, () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000, 20);
  }

  /** Starts a killed node again with its cluster identity; it rejoins (as a replica if it was failed over). */
  async resume(port: number): Promise<void> {
    await run('bash', [SCRIPT, 'start-node', String(port)], { env: this.env, timeout: 30_000 });
  }

  /** Every slot served by a live master and every live node saying cluster_state:ok. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      'the cluster to be healthy',
      async () => {
        const nodes = await this.nodes();
        const covered = nodes.filter((n) => n.role === 'master' && n.up).reduce((sum, n) => sum + n.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
        if (covered !== 16384) return false;
        for (const node of nodes.filter((n) => n.up)) {
          if (!(await this.cli(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        }
        return true;
      },
      timeoutMs,
      100,
    );
  }

  /** FLUSHALL on every master: the whole cluster's data gone at once. */
  async flushAll(): Promise<void> {
    const masters = (await this.nodes()).filter((n) => n.role === 'master' && n.up);
    await Promise.all(masters.map((m) => this.cli(m.port, 'FLUSHALL')));
  }

  async destroy(): Promise<void> {
    await run('bash', [SCRIPT, 'stop'], { env: this.env, timeout: 30_000 }).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
