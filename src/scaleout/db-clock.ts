/**
 * Time for scale-out, read from the PostgreSQL server's clock: every process on every host then
 * compares leases and request stamps against one clock, and a host whose clock drifts cannot
 * take a lease early or overfill a rate window. clock_timestamp() (not now()) so a value is the
 * moment the statement ran, not the start of its transaction.
 */
import { type RawBuilder, sql } from 'kysely';

/** Now plus `offsetMs`, as ISO-8601 UTC text with milliseconds (sorts as time when compared COLLATE "C"). */
export function dbIsoTime(offsetMs = 0): RawBuilder<string> {
  return sql<string>`to_char((clock_timestamp() + make_interval(secs => ${offsetMs / 1000}::float8)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Now, in milliseconds since the epoch. */
export function dbEpochMs(): RawBuilder<number> {
  return sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`;
}
