/** `/healthz` and `/metrics` on the daemon's --port (node:http). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { TenantHealth } from './tenant-job.js';

export interface DaemonHealth {
  /** starting: configs loaded, not yet scheduled; ok: scheduling; degraded: a run looks stuck; stopping: shutting down. */
  status: 'starting' | 'ok' | 'degraded' | 'stopping';
  pid: number;
  startedAt: string;
  tenants: TenantHealth[];
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: { port: number; host: string; health: () => DaemonHealth; registry: Registry }): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://daemon').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const health = options.health();
      // Ready and nothing stuck: 200. A stuck run or a daemon not (or no longer) scheduling: 503.
      res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found. Try /healthz or /metrics.\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
