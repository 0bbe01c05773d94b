/**
 * Safety rules (SPEC section 5), checked on the finished plan before anything is sent: an empty
 * source read while contacts are delivered, a read far smaller than the baseline, or deletes beyond
 * `maxDeletePercent` of a provider's delivered contacts refuse the run unless --allow-deletes.
 * Orphans count as deletes here: recording one drops the contact from the baseline.
 */
import type { TenantConfig } from '../config/schema.js';
import { SafetyRefusal } from '../errors.js';
import type { Plan } from './plan.js';

const hint = 'nothing was sent; if this is intended, run again with --allow-deletes';

export function checkSafety(plan: Plan, safety: TenantConfig['safety']): void {
  const largest = Math.max(0, ...[...plan.providers.values()].map((p) => p.baselineSize));
  if (largest > 0 && plan.sourceRows === 0) {
    throw new SafetyRefusal(`the source read returned no rows while ${largest} contacts are delivered: ${hint}`, { sourceRows: 0, delivered: largest });
  }
  if (plan.sourceRows * 100 < safety.minSourcePercent * largest) {
    throw new SafetyRefusal(
      `the source read returned ${plan.sourceRows} rows, under ${safety.minSourcePercent}% of the ${largest} contacts delivered (safety.minSourcePercent): ${hint}`,
      { sourceRows: plan.sourceRows, delivered: largest },
    );
  }
  for (const [provider, { counts, baselineSize }] of plan.providers) {
    const removing = counts.delete + counts.orphan;
    if (removing * 100 > safety.maxDeletePercent * baselineSize) {
      throw new SafetyRefusal(
        `${provider}: the plan removes ${removing} of ${baselineSize} delivered contacts, over safety.maxDeletePercent (${safety.maxDeletePercent}%): ${hint}`,
        { provider, removing, delivered: baselineSize },
      );
    }
  }
}
