// One role process's links to MongoDB and Redis, each through its own TcpProxy, and the environment that makes
// the process use them.
import type { ChaosCluster } from './chaos-cluster.js';
import { TcpProxy, type ProxyMode } from './tcp-proxy.js';

export type LinkTarget = 'mongo' | 'redis';

export class ProxiedLinks {
  private constructor(
    readonly mongo: TcpProxy,
    readonly redis: TcpProxy,
  ) {}

  static async start(cluster: ChaosCluster): Promise<ProxiedLinks> {
    const [mongo, redis] = await Promise.all([
      TcpProxy.start({ targetHost: '127.0.0.1', targetPort: cluster.mongoPort }),
      TcpProxy.start({ targetHost: '127.0.0.1', targetPort: cluster.redisPort }),
    ]);
    return new ProxiedLinks(mongo, redis);
  }

  /**
   * MONGODB_URL and REDIS_URL through the proxies. `directConnection=true`: the embedded server's replica-set
   * hello names its real address, and a driver in replica-set mode would switch to it, around the proxy.
   */
  env(): Record<string, string> {
    return {
      MONGODB_URL: `mongodb://127.0.0.1:${this.mongo.port}/?replicaSet=rs0&directConnection=true`,
      REDIS_URL: `redis://127.0.0.1:${this.redis.port}`,
    };
  }

  proxy(target: LinkTarget): TcpProxy {
    return target === 'mongo' ? this.mongo : this.redis;
  }

  set(targets: readonly LinkTarget[], mode: ProxyMode): void {
    for (const target of targets) this.proxy(target).setMode(mode);
  }

  async close(): Promise<void> {
    await Promise.all([this.mongo.close(), this.redis.close()]);
  }
}
