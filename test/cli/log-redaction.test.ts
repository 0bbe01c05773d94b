import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { LogRedactor } from '../../src/log/redact.js';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('log redaction', () => {
  it('replaces registered secrets wherever they appear: message, fields, nested errors', () => {
    const out = capture();
    const { logger, redactor } = createLogger({ destination: out.stream, pretty: false });
    redactor.addSecrets(['sk_live_Zebra42Quokka', 'tok"en\\x']);
    logger.info({ url: 'http://x/?key=sk_live_Zebra42Quokka', nested: { deep: ['a sk_live_Zebra42Quokka b'] } }, 'using sk_live_Zebra42Quokka');
    logger.error({ err: new Error('auth failed for tok"en\\x') }, 'boom');
    const text = out.lines().join('\n');
    expect(text).not.toContain('Zebra42Quokka');
    expect(text).not.toContain('tok\\"en');
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(4);
    for (const line of out.lines()) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('redacts credential headers and Basic/Bearer tokens by shape', () => {
    const out = capture();
    const { logger } = createLogger({ destination: out.stream, pretty: false });
    logger.info({ headers: { Authorization: 'Basic QUNhYmM6ZGVm', 'X-Api-Key': 'trk_123456', 'x-api-key': 'sk_abcdef', accept: 'json' } }, 'sent with Bearer abcdefghijkl');
    const [line] = out.lines();
    const parsed = JSON.parse(line!) as { headers: Record<string, string>; msg: string };
    expect(parsed.headers).toEqual({ Authorization: '[redacted]', 'X-Api-Key': '[redacted]', 'x-api-key': '[redacted]', accept: 'json' });
    expect(parsed.msg).toBe('sent with Bearer [redacted]');
  });

  it('masks E.164 phone numbers to their last 4 digits unless PII logging is on', () => {
    const masked = new LogRedactor();
    expect(masked.redact('{"phone":"+14155554567","path":"/contacts/%2B447700900123"}')).toBe('{"phone":"+*******4567","path":"/contacts/%2B********0123"}');
    expect(masked.redact('{"time":1700000000000,"at":"2024-01-01T00:00:00+00:00"}')).toBe('{"time":1700000000000,"at":"2024-01-01T00:00:00+00:00"}');
    const pii = new LogRedactor({ pii: true, secrets: ['secret-value'] });
    expect(pii.redact('+14155554567 secret-value')).toBe('+14155554567 [redacted]');
  });
});
