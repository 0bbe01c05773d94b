/** A tenant's schedule as the daemon needs it: a valid cron expression (seconds allowed) and time zone. */
import cron from 'node-cron';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../errors.js';

export interface TenantSchedule {
  expression: string;
  timezone: string;
}

export function scheduleOf(loaded: LoadedConfig): TenantSchedule {
  const { schedule, timezone } = loaded.config;
  const issues: ConfigIssue[] = [];
  if (schedule === undefined) {
    issues.push({ file: loaded.file, path: 'schedule', message: 'the daemon needs a cron schedule, e.g. "*/15 * * * *"' });
  } else {
    const check = cron.validateDetailed(schedule);
    if (!check.valid) {
      const why = check.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      issues.push({ file: loaded.file, path: 'schedule', message: `not a valid cron expression "${schedule}" (${why}); expected 5 fields, or 6 with seconds first` });
    }
  }
  if (!validTimeZone(timezone)) issues.push({ file: loaded.file, path: 'timezone', message: `unknown time zone "${timezone}"; expected an IANA name such as "UTC" or "Europe/Paris"` });
  if (issues.length > 0) throw new ConfigError(issues);
  return { expression: schedule!, timezone };
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
