/**
 * Redaction of every log line, applied once to the serialised JSON (pino's streamWrite hook), so no
 * field, message, error or stack can carry a credential past it. Secrets are the config's
 * substituted values (registered as configs load); credential headers and Basic/Bearer tokens are
 * caught by shape; phone numbers are masked to their last 4 digits unless PII logging is on.
 */
import { redacted } from '../http/redact.js';

export { redacted };

/** Below this length a "secret" would mask ordinary words; such values are not secrets worth the name. */
const minSecretLength = 4;

const credentialHeader = /"(authorization|proxy-authorization|x-api-key|cookie|set-cookie)"\s*:\s*"(?:[^"\\]|\\.)*"/gi;
const bearerToken = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g;
/** E.164-looking numbers, also URL-encoded (%2B) as they appear in request paths. */
const phone = /(\+|%2B)([1-9]\d{6,14})(?!\d)/gi;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `+*******4567`: the country code and subscriber number are hidden, the last 4 digits kept for support. */
export function maskPhone(prefix: string, digits: string): string {
  return `${prefix}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

export class LogRedactor {
  readonly #secrets = new Set<string>();
  #secretPattern: RegExp | undefined;
  /** When true, phone numbers are logged as they are (`--log-pii`). */
  readonly pii: boolean;

  constructor(options: { pii?: boolean; secrets?: readonly string[] } = {}) {
    this.pii = options.pii === true;
    this.addSecrets(options.secrets ?? []);
  }

  /** Registers secret values (and the forms they take inside JSON and URLs) to be replaced from now on. */
  addSecrets(values: readonly string[]): void {
    const before = this.#secrets.size;
    for (const value of values) {
      if (value.length < minSecretLength) continue;
      for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) this.#secrets.add(form);
    }
    if (this.#secrets.size === before) return;
    // Longest first, so a secret that contains another is replaced whole.
    const alternatives = [...this.#secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#secretPattern = new RegExp(alternatives.join('|'), 'g');
  }

  /** `text` (a JSON log line or any message) with secrets, credentials and, unless pii, phones hidden. */
  redact(text: string): string {
    let out = this.#secretPattern === undefined ? text : text.replace(this.#secretPattern, redacted);
    out = out.replace(credentialHeader, `"$1":"${redacted}"`).replace(bearerToken, `$1 ${redacted}`);
    return this.pii ? out : out.replace(phone, (_match, prefix: string, digits: string) => maskPhone(prefix, digits));
  }
}
