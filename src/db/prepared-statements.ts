/**
 * Statement texts kept prepared on every PostgreSQL connection. kysely hands pg only a text and
 * its parameters, so pg sends each as an unnamed statement, parsed and planned anew every time: for
 * the journal's hot statements that was over a third of the server's time (a Twilio first sync:
 * parse 0.17 ms, bind 0.22 ms, execute 0.58 ms a settle). A text marked here is sent under a name
 * instead; each connection prepares it once and plans it once: the pool sets plan_cache_mode to
 * force_generic_plan on its connections (only these statements are prepared, and planning each
 * run anew, PostgreSQL's default for a statement's first five runs and whenever it guesses a
 * custom plan cheaper, was half of the settle's bind). The server still plans again after an
 * ANALYZE of the tables. Only texts that do not grow with their rows are marked (the state layer's
 * bulk statements, src/state/bulk.ts), so the set stays small. Named statements against a
 * pooler in transaction mode (pgbouncer < 1.21) would fail: the state store wants a session.
 */
const names = new Map<string, string>();

/** Marks `text` to be kept prepared; returns it. */
export function keepPrepared(text: string): string {
  if (!names.has(text)) names.set(text, `contact_sync_${names.size}`);
  return text;
}

/** The name `text` is prepared under, if it is marked. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}
