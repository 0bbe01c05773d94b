/**
 * The daemon: every tenant config loaded and scheduled with node-cron, runs isolated per tenant
 * (one tenant's failure or slow provider never holds up another: each fire is its own async run,
 * and providers only share a rate gate when they share an account), /healthz and /metrics, config
 * reload and a bounded, journal-safe stop. Signals are wired by the CLI (src/cli/commands/daemon.ts).
 */
import type { RunCoordinator } from 'node-cron';
import type { Logger } from 'pino';
import { configFilesIn } from '../config/files.js';
import { type LoadedConfig, loadConfig, loadConfigs } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { LocalRateGateRegistry } from '../http/rate-gate.js';
import type { RateGateRegistry } from '../http/types.js';
import { type DaemonHealth, type HealthServer, startHealthServer } from './health-server.js';
import { MeteredGateRegistry } from './metered-gates.js';
import { DaemonMetrics } from './metrics.js';
import { scheduleOf } from './schedule.js';
import { TenantJob } from './tenant-job.js';

export interface DaemonOptions {
  /** Tenant config files, or directories of them (*.yaml, *.yml, *.json). */
  configPaths: readonly string[];
  /** Serve /healthz and /metrics on this port (0: any free port); none when undefined. */
  port?: number;
  /** Default 127.0.0.1; use 0.0.0.0 for probes from outside the host. */
  host?: string;
  logger: Logger;
  /** Receives each loaded config's secret values, so the logs can redact them. */
  redactor?: { addSecrets(values: readonly string[]): void };
  /** Scale-out: elects the one process that runs each scheduled fire (node-cron RunCoordinator). */
  coordinator?: RunCoordinator;
  /** Lease on one fire when a coordinator is given (node-cron `distributedLease`, ms). */
  leaseMs?: number;
  /** Rate gates per provider account. Default: one in-process registry shared by all tenants. */
  gates?: RateGateRegistry;
  /** A run with no progress (no batch done, no request answered) for this long is stuck. Default 5 minutes. */
  stuckAfterMs?: number;
  /** Divides the documented rate-limit windows (sandboxes started with the same --time-scale). */
  timeScale?: number;
  /** Environment the configs' ${VAR}s read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface ReloadReport {
  /** Files loaded (new or changed tenants take the new config). */
  loaded: string[];
  added: string[];
  removed: string[];
  /** Files that could not be loaded; a tenant that had a good config keeps it. */
  problems: ConfigIssue[];
}

export interface Daemon {
  /** The /healthz and /metrics port, when serving. */
  readonly port: number | undefined;
  readonly metrics: DaemonMetrics;
  health(): DaemonHealth;
  /** Re-reads every config path (SIGHUP). */
  reload(): Promise<ReloadReport>;
  /** Runs a tenant now, unless it is running (then the request is skipped like an overlapping fire). */
  runNow(tenant: string): Promise<void>;
  /**
   * Stops scheduling, asks runs in progress to stop after their batch in flight (journaled), and
   * resolves once they have, or after `timeoutMs` (default 30 s) with `finished: false`.
   */
  stop(options?: { timeoutMs?: number }): Promise<{ finished: boolean }>;
}

const defaultStuckAfterMs = 5 * 60_000;
const defaultStopTimeoutMs = 30_000;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const logger = options.logger;
  const stuckAfterMs = options.stuckAfterMs ?? defaultStuckAfterMs;
  const gates = new MeteredGateRegistry(options.gates ?? new LocalRateGateRegistry());
  const jobs = new Map<string, TenantJob>(); // by file
  const startedAt = new Date().toISOString();
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const metrics = new DaemonMetrics({
    tenants: () => [...jobs.values()].map((job) => ({ tenant: job.tenant, running: job.health().running, stuck: job.isStuck(), lastSuccessAt: job.lastSuccessAt })),
    gateWaiting: () => gates.waiting(),
  });
  const jobDeps = {
    gates,
    metrics,
    logger,
    stuckAfterMs,
    ...(options.coordinator === undefined ? {} : { coordinator: options.coordinator }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
  };

  /** Loads one file and checks what the daemon needs of it (a schedule). */
  async function load(file: string): Promise<LoadedConfig> {
    const loaded = await loadConfig(file, options.env);
    scheduleOf(loaded);
    options.redactor?.addSecrets(loaded.secrets);
    return loaded;
  }

  // Start: every file must load and have a schedule, or the daemon does not start.
  const initial = await loadConfigs(options.configPaths, options.env);
  const problems = initial.flatMap((loaded) => {
    try {
      scheduleOf(loaded);
      return [];
    } catch (error) {
      return issuesOf(error, loaded.file);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  for (const loaded of initial) {
    options.redactor?.addSecrets(loaded.secrets);
    jobs.set(loaded.file, new TenantJob(loaded, jobDeps));
  }

  const health = (): DaemonHealth => {
    const tenants = [...jobs.values()].map((job) => job.health());
    const status = phase === 'starting' ? 'starting' : phase === 'stopping' ? 'stopping' : tenants.some((t) => t.stuck) ? 'degraded' : 'ok';
    return { status, pid: process.pid, startedAt, tenants };
  };
  let server: HealthServer | undefined;
  if (options.port !== undefined) {
    server = await startHealthServer({ port: options.port, host: options.host ?? '127.0.0.1', health, registry: metrics.registry });
    logger.info({ port: server.port }, 'serving /healthz and /metrics');
  }
  for (const job of jobs.values()) job.start();
  phase = 'running';
  const stuckTimer = setInterval(() => jobs.forEach((job) => job.reportIfStuck()), Math.min(stuckAfterMs, 10_000));
  stuckTimer.unref();
  logger.info({ tenants: [...jobs.values()].map((j) => j.tenant) }, 'daemon started');

  async function reload(): Promise<ReloadReport> {
    const report: ReloadReport = { loaded: [], added: [], removed: [], problems: [] };
    let current: string[];
    try {
      current = await configFilesIn(options.configPaths);
    } catch (error) {
      report.problems.push(...issuesOf(error, options.configPaths.join(', ')));
      logger.error({ problems: report.problems }, 'reload failed: every tenant keeps its config');
      return report;
    }
    const fresh = new Map<string, LoadedConfig>();
    const failed = new Set<string>();
    for (const file of current) {
      try {
        fresh.set(file, await load(file));
      } catch (error) {
        const issues = issuesOf(error, file);
        failed.add(file);
        report.problems.push(...issues);
        const job = jobs.get(file);
        if (job !== undefined) job.reloadError = issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ');
      }
    }
    // A file that fails to load stays scheduled with its old config: it is not a removal.
    for (const [file, job] of jobs) {
      if (current.includes(file) && (fresh.has(file) || failed.has(file))) continue;
      jobs.delete(file);
      report.removed.push(file);
      void job.stop();
    }
    for (const [file, loaded] of fresh) {
      const clash = [...jobs].find(([other, job]) => job.tenant === loaded.config.tenant && other !== file);
      if (clash !== undefined) {
        report.problems.push({ file, path: 'tenant', message: `tenant "${loaded.config.tenant}" is already configured in ${clash[0]}` });
        continue;
      }
      const job = jobs.get(file);
      if (job !== undefined && job.tenant === loaded.config.tenant) {
        job.update(loaded);
      } else {
        if (job !== undefined) void job.stop();
        const added = new TenantJob(loaded, jobDeps);
        jobs.set(file, added);
        added.start();
        report.added.push(file);
      }
      report.loaded.push(file);
    }
    if (report.problems.length > 0) logger.error({ problems: report.problems }, 'reload: some configs could not be loaded; their tenants keep the config they had');
    logger.info({ loaded: report.loaded.length, added: report.added, removed: report.removed }, 'configs reloaded');
    return report;
  }

  return {
    get port() {
      return server?.port;
    },
    metrics,
    health,
    reload,
    async runNow(tenant) {
      const job = [...jobs.values()].find((j) => j.tenant === tenant);
      if (job === undefined) throw new ConfigError([{ file: '', path: 'tenant', message: `no tenant named "${tenant}" is loaded` }]);
      await job.fire();
    },
    async stop(stopOptions = {}) {
      phase = 'stopping';
      clearInterval(stuckTimer);
      logger.info('stopping: no new runs; runs in progress finish their batch in flight');
      const stopped = Promise.all([...jobs.values()].map((job) => job.stop())).then(() => true);
      const timeoutMs = stopOptions.timeoutMs ?? defaultStopTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const finished = await Promise.race([stopped, timedOut]);
      clearTimeout(timer);
      if (!finished) {
        const running = [...jobs.values()].map((job) => job.health()).filter((t) => t.running).map((t) => ({ tenant: t.tenant, runId: t.runId }));
        logger.warn({ timeoutMs, running }, 'stop timed out: a run was still in flight (its journal resumes it next run)');
      }
      await server?.close();
      logger.info({ finished }, 'daemon stopped');
      return { finished };
    },
  };
}

function issuesOf(error: unknown, file: string): ConfigIssue[] {
  if (error instanceof ConfigError) return [...error.issues];
  return [{ file, path: '', message: error instanceof Error ? error.message : String(error) }];
}
