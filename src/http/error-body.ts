/** Reading the error bodies of the three providers: Twilio {code, message}, Trackly {code, error}, OliAI {statusCode, message (string or array), error}. */

export interface ErrorFields {
  code?: string;
  message?: string;
}

export function errorFieldsOf(json: unknown): ErrorFields {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return {};
  const body = json as Record<string, unknown>;
  const code = typeof body.code === 'string' || typeof body.code === 'number' ? String(body.code) : undefined;
  const raw = body.message ?? body.error;
  const message = Array.isArray(raw) ? raw.map(String).join('; ') : typeof raw === 'string' ? raw : undefined;
  return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
}
