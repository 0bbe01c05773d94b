/**
 * A long plan over a SQLite store resolves every read without a turn of the event loop; the
 * planner gives one per page so timers (heartbeats), /healthz and other tenants' requests go on.
 */
import { afterEach, expect, it } from 'vitest';
import { runSync } from '../../src/engine/sync.js';
import { type Harness, contact, openHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('turns the event loop at least once per source page while planning', async () => {
  h = await openHarness();
  h.source.set(Array.from({ length: 70 }, (_, i) => contact(`c${String(i).padStart(3, '0')}`, `+1415555${String(1000 + i)}`)));
  const runtime = h.runtime({ tuning: { pageSize: 7 } });
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const turnsBefore = turns;
  const result = await runSync(runtime, { dryRun: true });
  ticking = false;
  expect(result.report.providers.alpha!.planned.create).toBe(70);
  expect(turns - turnsBefore).toBeGreaterThanOrEqual(10); // 10 pages of 7
});
