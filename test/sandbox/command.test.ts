import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runSandboxCommand } from '../../src/sandbox/command.js';
import { jsonCall } from './helpers.js';

describe('contact-sync sandbox command', () => {
  it('prints base URLs, credentials and curl examples, serves, and stops on SIGTERM', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const before = process.listeners('SIGTERM');
    const sb = await runSandboxCommand({ port: 0, timeScale: 60 }, out);
    try {
      for (const type of ['twilio', 'trackly', 'oliai'] as const) expect(printed).toContain(sb.baseUrl(type));
      expect(sb.baseUrl('twilio')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/twilio$/);
      expect(sb.baseUrl('trackly')).toMatch(/\/trackly\/api\/v2$/);
      expect(sb.baseUrl('oliai')).toMatch(/\/oliai\/v1$/);
      expect(printed).toContain(sb.credentials.twilio.accountSid);
      expect(printed).toContain('trk_sandbox_key');
      expect(printed).toContain('sk_live_sandbox_key');
      expect(printed).toContain('100 requests / 1 s');
      expect(printed.match(/curl /g)?.length).toBeGreaterThanOrEqual(5);
      expect((await jsonCall(sb, 'oliai', 'GET', '/contacts')).status).toBe(200);
    } finally {
      // Call our own handler rather than emitting the signal to every listener of the test runner.
      const ours = process.listeners('SIGTERM').filter((l) => !before.includes(l));
      expect(ours).toHaveLength(1);
      (ours[0] as (signal: NodeJS.Signals) => void)('SIGTERM');
    }
    await sb.closed;
    expect(printed).toContain('SIGTERM: stopping the sandbox');
    expect(process.listeners('SIGTERM').filter((l) => !before.includes(l))).toHaveLength(0);
  });
});
