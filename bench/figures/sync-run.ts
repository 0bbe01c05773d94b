/** One real (journaled) sync of the bench tenant against a sandbox, timed, with its requests as the sandbox logged them. */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { runSync, type SyncResult } from '../../src/engine/sync.js';
import type { TenantRuntime } from '../../src/engine/runtime.js';
import type { ProviderType, RecordedRequest } from '../../src/sandbox/types.js';
import { measure } from '../measure.js';
import type { RemoteSandbox } from '../remote-sandbox.js';
import { benchConfig, openBenchTenant } from '../tenant.js';

export interface SyncSetup {
  sandbox: RemoteSandbox;
  sourcePath: string;
  stateUrl: string;
  providers: readonly ProviderType[];
  /** Per provider batch size (default: the provider's maximum). */
  batchSize?: Partial<Record<ProviderType, number>>;
  /** Match the sandbox's timeScale. */
  timeScale?: number;
  /**
   * The sandbox enforces no limits: lift the client's too, as an operator would for such an
   * endpoint, with the config's `rateLimit` (one limit far above anything a run can reach).
   */
  unthrottled?: boolean;
}

const noLimit = { requests: 1_000_000, perSeconds: 1 };

export interface TimedSync {
  result: SyncResult;
  ms: number;
  /** What reached the sandbox during the run, per provider type. */
  requests: Record<string, RecordedRequest[]>;
  /** Per provider: contacts to create or update that the run planned (what a request count is judged against). */
  upserts: Record<string, number>;
  maxBatch: Record<string, number>;
  /** Per provider: ms from the start of the run to its last batch settled (the run's end if it sent nothing). */
  providerMs: Record<string, number>;
  /** ms from the start of the run to its plan being ready (the run's 'plan ready' log line): the rest is the apply. */
  planMs: number;
}

export async function openSyncTenant(setup: SyncSetup): Promise<TenantRuntime> {
  const providers = setup.providers.map((type) => {
    const batchSize = setup.batchSize?.[type];
    return setup.sandbox.endpoint(type, { ...(batchSize === undefined ? {} : { batchSize }), ...(setup.unthrottled === true ? { rateLimit: noLimit } : {}) });
  });
  return openBenchTenant(benchConfig({ sourcePath: setup.sourcePath, stateUrl: setup.stateUrl, providers }), setup.timeScale === undefined ? {} : { timeScale: setup.timeScale });
}

/** Runs one sync on a tenant opened for `setup` and closes it. Refuses to report a run that did not finish ok. */
export async function timedSync(setup: SyncSetup): Promise<TimedSync> {
  const runtime = await openSyncTenant(setup);
  try {
    const before = (await setup.sandbox.requests()).length;
    const lastBatch: Record<string, number> = {};
    const started = performance.now();
    let planMs = Number.NaN;
    // The run's own log marks the end of the plan; nothing else of it is kept.
    const logger = pino({ level: 'info' }, { write: (line: string) => void (line.includes('"msg":"plan ready"') && (planMs = performance.now() - started)) });
    const { value: result, ms } = await measure(() => runSync(runtime, { logger, onProgress: ({ provider }) => (lastBatch[provider] = performance.now() - started) }));
    if (result.report.status !== 'ok') {
      throw new Error(`the bench sync ended ${result.report.status}: ${result.error?.message ?? JSON.stringify(result.problems.slice(0, 3))}`);
    }
    const requests: Record<string, RecordedRequest[]> = {};
    for (const request of (await setup.sandbox.requests()).slice(before)) (requests[request.provider] ??= []).push(request);
    const upserts: Record<string, number> = {};
    const maxBatch: Record<string, number> = {};
    const providerMs: Record<string, number> = {};
    for (const target of runtime.targets) {
      providerMs[target.name] = lastBatch[target.name] ?? ms;
      const planned = result.report.providers[target.name]!.planned;
      upserts[target.name] = planned.create + planned.update;
      maxBatch[target.name] = target.adapter.capabilities.maxBatch;
    }
    return { result, ms, requests, upserts, maxBatch, providerMs, planMs };
  } finally {
    await runtime.close();
  }
}
