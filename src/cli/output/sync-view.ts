/** The human output of `sync`: planned counts, a few example changes, what was applied, the problems. */
import type { SyncResult } from '../../engine/sync.js';
import { INVALID_PROVIDER } from '../../state/rejections.js';
import { describeChange } from './changes.js';
import { renderTable } from './table.js';

const problemsShown = 10;

export function renderPlan(result: SyncResult): string {
  const rows = Object.entries(result.report.providers).map(([name, p]) => [
    name,
    p.planned.create,
    p.planned.update,
    p.planned.delete,
    p.planned.orphan,
    p.planned.unchanged,
    p.planned.invalid,
    result.deferred[name] ?? 0,
  ]);
  return renderTable(['provider', 'create', 'update', 'delete', 'orphan', 'unchanged', 'invalid', 'waiting'], rows);
}

export function renderApplied(result: SyncResult): string {
  const rows = Object.entries(result.report.providers).map(([name, p]) => [
    name,
    p.applied.create,
    p.applied.update,
    p.applied.delete,
    p.rejected,
    result.pending[name] ?? 0,
    p.requests,
    p.retries,
  ]);
  return renderTable(['provider', 'created', 'updated', 'deleted', 'rejected', 'pending', 'requests', 'retries'], rows);
}

export function renderSyncResult(result: SyncResult): string {
  const { report } = result;
  const lines = [`Tenant ${report.tenant}, run ${report.runId}${report.dryRun ? ' (dry run: nothing sent, no state changed)' : ''}`, '', 'Plan:', renderPlan(result)];
  if (report.dryRun) {
    if (result.examples.length > 0) lines.push('', 'Example changes (field before -> after):', ...result.examples.map((e) => `  ${describeChange(e)}`));
  } else if (report.status !== 'refused') {
    lines.push('', 'Applied:', renderApplied(result));
  }
  if (result.problems.length > 0) {
    lines.push('', `Rejected or invalid (${result.problems.length > problemsShown ? `first ${problemsShown} of ${result.problems.length}` : result.problems.length}):`);
    lines.push(...result.problems.slice(0, problemsShown).map((p) => `  ${p.contactId}${p.provider === INVALID_PROVIDER ? '' : ` (${p.provider})`}: ${p.code}: ${p.reason}`));
  }
  lines.push('', `Status: ${report.status}${result.error ? ` - ${result.error.message}` : ''}`);
  return lines.join('\n');
}
