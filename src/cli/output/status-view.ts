/** The human output of `status`: last runs, per-provider counts, latest rejections, dead letters, stuck runs. */
import type { StatusReport } from '../../engine/status.js';
import { INVALID_PROVIDER } from '../../state/rejections.js';
import { renderTable } from './table.js';

const shortId = (runId: string): string => runId.slice(0, 8);
const time = (iso: string | null): string => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

const stuckReasons: Record<StatusReport['stuck'][number]['reason'], string> = {
  abandoned: 'its process is gone: the next run resumes its work',
  no_progress: 'alive, but no progress',
};

function durationOf(run: StatusReport['lastRuns'][number]): string {
  if (run.finishedAt === null) return 'running';
  return `${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)} s`;
}

export function renderStatus(status: StatusReport): string {
  const lines = [`Tenant ${status.tenant}`, ''];

  lines.push('Last runs:');
  lines.push(
    status.lastRuns.length === 0
      ? '  (none yet)'
      : renderTable(
          ['run', 'kind', 'status', 'started', 'took', 'error'],
          status.lastRuns.map((r) => [shortId(r.runId), r.kind, r.status, time(r.startedAt), durationOf(r), r.error ?? '']),
          { alignNumbers: false },
        ),
  );

  lines.push('', 'Contacts per provider:');
  lines.push(
    renderTable(
      ['provider', 'synced', 'pending', 'rejected', 'dead letters', 'orphaned'],
      Object.entries(status.providers).map(([name, p]) => [name, p.synced, p.pending, p.rejected, p.dead, p.orphaned]),
    ),
  );
  lines.push(`Source rows never sent (invalid or duplicate phone): ${status.invalid}`);

  lines.push('', 'Latest rejections:');
  lines.push(
    status.rejections.length === 0
      ? '  (none)'
      : renderTable(
          ['contact', 'provider', 'code', 'reason', 'attempts', 'state'],
          status.rejections.map((r) => [
            r.contactId,
            r.provider === INVALID_PROVIDER ? '(source)' : r.provider,
            r.code,
            r.reason,
            r.attempts,
            r.provider === INVALID_PROVIDER ? 'never sent' : r.dead ? 'dead letter: waits for a change' : `retry after ${time(r.nextAttemptAt)}`,
          ]),
          { alignNumbers: false },
        ),
  );

  const deadTotal = Object.values(status.providers).reduce((sum, p) => sum + p.dead, 0);
  const shown = status.deadLetters.length < deadTotal ? ` (the latest ${status.deadLetters.length} of ${deadTotal})` : '';
  lines.push('', `Dead letters, waiting until the contact changes${shown}:`);
  lines.push(
    status.deadLetters.length === 0
      ? '  (none)'
      : renderTable(
          ['contact', 'provider', 'code', 'reason', 'attempts', 'since'],
          status.deadLetters.map((d) => [d.contactId, d.provider, d.code, d.reason, d.attempts, time(d.since)]),
          { alignNumbers: false },
        ),
  );

  lines.push('', 'Stuck runs:');
  lines.push(
    status.stuck.length === 0
      ? '  (none)'
      : renderTable(
          ['run', 'kind', 'started', 'last heartbeat', 'last progress', 'process', 'why'],
          status.stuck.map((r) => [shortId(r.runId), r.kind, time(r.startedAt), time(r.heartbeatAt), time(r.progressAt), r.holder ?? '-', stuckReasons[r.reason]]),
          { alignNumbers: false },
        ),
  );
  return lines.join('\n');
}
