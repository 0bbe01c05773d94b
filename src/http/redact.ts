/** Keeps credentials out of logs and errors. */

/** Headers that carry a provider credential (compared case-insensitively). */
const secretHeaders = new Set(['authorization', 'x-api-key', 'proxy-authorization', 'cookie']);

export const redacted = '[redacted]';

/** A copy of `headers` with every credential-bearing value replaced, safe to log. */
export function redactHeaders(headers: Record<string, string> | Headers): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return Object.fromEntries(entries.map(([name, value]) => [name, secretHeaders.has(name.toLowerCase()) ? redacted : value]));
}

/** `text` with every occurrence of the given secret values replaced (for messages built from provider answers). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length >= 4).reduce((out, secret) => out.split(secret).join(redacted), text);
}
