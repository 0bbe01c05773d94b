/**
 * One tenant in the daemon: its cron task, the run in progress (never two at once: a fire that
 * finds the tenant running is skipped and logged), what its last runs gave, and whether the run in
 * progress looks stuck (no batch finished and no request answered for `stuckAfterMs`).
 */
import cron, { type Logger as CronLogger, type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { type OpenTenantOptions, openTenant } from '../engine/open-tenant.js';
import type { RunStatus } from '../engine/report.js';
import { type TenantRuntime, defaultTuning } from '../engine/runtime.js';
import { runSync } from '../engine/sync.js';
import { ContactSyncError } from '../errors.js';
import type { RateGateRegistry } from '../http/types.js';
import type { DaemonMetrics } from './metrics.js';
import { type TenantSchedule, scheduleOf } from './schedule.js';

export interface JobDeps {
  gates: RateGateRegistry;
  metrics: DaemonMetrics;
  logger: Logger;
  stuckAfterMs: number;
  /** Scale-out: only the process the coordinator elects runs a given fire. */
  coordinator?: RunCoordinator;
  /** How long the coordinator's lease on one fire lasts (node-cron `distributedLease`); also the stale-run horizon (see runTuning). */
  leaseMs?: number;
  /** Divides the documented rate-limit windows (sandboxes started with the same --time-scale). */
  timeScale?: number;
}

export interface LastRun {
  runId: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  error: string | null;
}

export interface TenantHealth {
  tenant: string;
  file: string;
  schedule: string;
  timezone: string;
  nextRunAt: string | null;
  running: boolean;
  /** The run in progress, once it has an id (its log lines carry it). */
  runId: string | null;
  runningSince: string | null;
  lastProgressAt: string | null;
  stuck: boolean;
  lastRun: LastRun | null;
  lastSuccessAt: string | null;
  /** The last reload found this tenant's file broken: the config shown is the one still in use. */
  reloadError: string | null;
}

interface CurrentRun {
  controller: AbortController;
  runId: string | null;
  startedAt: number;
  lastProgressAt: number;
  stuckReported: boolean;
  done: Promise<void>;
}

export class TenantJob {
  #loaded: LoadedConfig;
  #schedule: TenantSchedule;
  #task: ScheduledTask | undefined;
  #current: CurrentRun | undefined;
  #lastRun: LastRun | null = null;
  #lastSuccessAt: Date | null = null;
  #stopped = false;
  reloadError: string | null = null;
  readonly #logger: Logger;

  constructor(
    loaded: LoadedConfig,
    private readonly deps: JobDeps,
  ) {
    this.#loaded = loaded;
    this.#schedule = scheduleOf(loaded);
    this.#logger = deps.logger.child({ tenant: loaded.config.tenant });
  }

  get tenant(): string {
    return this.#loaded.config.tenant;
  }

  get file(): string {
    return this.#loaded.file;
  }

  get lastSuccessAt(): Date | null {
    return this.#lastSuccessAt;
  }

  start(): void {
    const { expression, timezone } = this.#schedule;
    this.#task = cron.schedule(expression, () => this.fire(), {
      name: `contact-sync:${this.tenant}`,
      timezone,
      logger: cronLogger(this.#logger),
      ...(this.deps.coordinator === undefined
        ? {}
        : { distributed: true, runCoordinator: this.deps.coordinator, ...(this.deps.leaseMs === undefined ? {} : { distributedLease: this.deps.leaseMs }) }),
    });
    this.#logger.info({ schedule: expression, timezone, nextRunAt: this.#task.getNextRun()?.toISOString() }, 'tenant scheduled');
  }

  /** A new config for this tenant (SIGHUP): the next run uses it; a new schedule takes effect now. */
  update(loaded: LoadedConfig): void {
    const schedule = scheduleOf(loaded);
    this.#loaded = loaded;
    this.reloadError = null;
    if (schedule.expression === this.#schedule.expression && schedule.timezone === this.#schedule.timezone) return;
    this.#schedule = schedule;
    void this.#task?.destroy();
    this.start();
  }

  /** One scheduled (or requested) run; skipped, and logged, when the tenant is still running. */
  async fire(): Promise<void> {
    if (this.#stopped) return;
    if (this.#current !== undefined) {
      this.deps.metrics.runSkipped(this.tenant, 'overlap');
      this.#logger.warn({ runningSince: new Date(this.#current.startedAt).toISOString() }, 'skipped a scheduled run: the previous run of this tenant is still running');
      return;
    }
    const now = Date.now();
    const current: CurrentRun = { controller: new AbortController(), runId: null, startedAt: now, lastProgressAt: now, stuckReported: false, done: Promise.resolve() };
    this.#current = current;
    current.done = this.#run(current).finally(() => {
      this.#current = undefined;
    });
    await current.done;
  }

  async #run(current: CurrentRun): Promise<void> {
    const loaded = this.#loaded;
    const startedAt = new Date(current.startedAt).toISOString();
    const progress = (): void => {
      current.lastProgressAt = Date.now();
    };
    let runtime: TenantRuntime | undefined;
    let status: RunStatus = 'failed';
    try {
      runtime = await openTenant(
        loaded,
        { gates: this.deps.gates, observer: this.deps.metrics.observerFor(this.tenant, progress), logger: this.#logger, ...(this.deps.timeScale === undefined ? {} : { timeScale: this.deps.timeScale }) },
        runTuning(this.deps),
      );
      const onStart = (runId: string): void => {
        current.runId = runId;
      };
      const result = await runSync(runtime, { signal: current.controller.signal, onProgress: progress, onStart, logger: this.#logger });
      status = result.report.status;
      this.#lastRun = { runId: result.report.runId, status, startedAt, finishedAt: new Date().toISOString(), error: result.error?.message ?? null };
      this.deps.metrics.runFinished(this.tenant, status, (Date.now() - current.startedAt) / 1000, result);
      if (status === 'ok' || status === 'partial') this.#lastSuccessAt = new Date();
      if (result.error !== undefined) this.#logger.warn({ runId: result.report.runId, status, reason: result.error.message }, 'run did not finish cleanly');
    } catch (error) {
      if (error instanceof ContactSyncError && error.code === 'RUN_BUSY') {
        this.deps.metrics.runSkipped(this.tenant, 'busy');
        this.#logger.warn({ reason: error.message }, 'skipped a scheduled run: the tenant is running in another process');
        return;
      }
      this.#lastRun = { runId: current.runId, status, startedAt, finishedAt: new Date().toISOString(), error: error instanceof Error ? error.message : String(error) };
      this.deps.metrics.runFinished(this.tenant, status, (Date.now() - current.startedAt) / 1000);
      this.#logger.error({ runId: current.runId, err: error }, 'run failed');
    } finally {
      await runtime?.close().catch((error: unknown) => this.#logger.warn({ err: error }, 'closing the tenant failed'));
    }
  }

  isStuck(now = Date.now()): boolean {
    return this.#current !== undefined && now - this.#current.lastProgressAt > this.deps.stuckAfterMs;
  }

  /** Logs a stuck run once per run. */
  reportIfStuck(): void {
    const current = this.#current;
    if (current === undefined || current.stuckReported || !this.isStuck()) return;
    current.stuckReported = true;
    this.#logger.warn(
      { runId: current.runId, runningSince: new Date(current.startedAt).toISOString(), lastProgressAt: new Date(current.lastProgressAt).toISOString() },
      'run looks stuck: no progress for longer than the stuck threshold',
    );
  }

  health(): TenantHealth {
    const current = this.#current;
    return {
      tenant: this.tenant,
      file: this.file,
      schedule: this.#schedule.expression,
      timezone: this.#schedule.timezone,
      nextRunAt: this.#task?.getNextRun()?.toISOString() ?? null,
      running: current !== undefined,
      runId: current?.runId ?? null,
      runningSince: current === undefined ? null : new Date(current.startedAt).toISOString(),
      lastProgressAt: current === undefined ? null : new Date(current.lastProgressAt).toISOString(),
      stuck: this.isStuck(),
      lastRun: this.#lastRun,
      lastSuccessAt: this.#lastSuccessAt?.toISOString() ?? null,
      reloadError: this.reloadError,
    };
  }

  /** Stops scheduling and asks the run in progress to stop after its batch in flight; resolves when it has. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#task?.destroy();
    this.#current?.controller.abort(new Error('the daemon is stopping'));
    await this.#current?.done;
  }
}

/**
 * With leases, the run row is heartbeated at least as often as the lease and a run row silent for
 * the lease TTL counts as abandoned: the engine cannot check a pid on another host, and waiting
 * its default horizon (minutes) would keep a dead host's tenant blocked long after its lease expired.
 */
function runTuning(deps: JobDeps): OpenTenantOptions {
  if (deps.coordinator === undefined || deps.leaseMs === undefined) return {};
  return { tuning: { staleAfterMs: deps.leaseMs, heartbeatMs: Math.min(defaultTuning.heartbeatMs, Math.max(1, Math.floor(deps.leaseMs / 3))) } };
}

/** node-cron's own messages (missed fires, coordinator errors) through the tenant's logger. */
function cronLogger(logger: Logger): CronLogger {
  return {
    info: (message) => logger.debug({ source: 'node-cron' }, message),
    warn: (message) => logger.warn({ source: 'node-cron' }, message),
    error: (message, err) => logger.error({ source: 'node-cron', err: err ?? message }, typeof message === 'string' ? message : 'node-cron error'),
    debug: (message) => logger.debug({ source: 'node-cron' }, String(message)),
  };
}
