/** Child-process entry: runs one job (argv[2], JSON) and sends its outcome to the parent over IPC. */
import { limitHeapGrowth } from '../src/cli/heap-growth.js';
import { type Job, runJob } from './jobs.js';

// As the command line sets it (a child stands in for a `contact-sync sync` process).
limitHeapGrowth();

const job = JSON.parse(process.argv[2] ?? 'null') as Job;
const log = (line: string): void => {
  process.stderr.write(`  ${line}\n`);
};
try {
  const outcome = await runJob(job, log);
  process.send?.({ ok: true, outcome });
} catch (error) {
  process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
}
process.disconnect?.();
