import { z } from 'zod';

/**
 * Options every provider accepts (SPEC section 3). `batchSize` may not exceed the provider's
 * maximum (SPEC: "at most the provider's maximum"): a larger value is a config error, not capped.
 */
export function commonProviderFields(provider: { label: string; maxBatch: number }) {
  return {
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lower-case name: letters, digits, - and _'),
    /** Replaces all of the provider's documented limits with this one limit on every request. */
    rateLimit: z
      .object({ requests: z.number().int().positive(), perSeconds: z.number().positive() })
      .strict()
      .optional(),
    batchSize: z
      .number()
      .int()
      .positive()
      .max(provider.maxBatch, `at most ${provider.maxBatch.toLocaleString('en-US')} (${provider.label}'s maximum contacts per request)`)
      .optional(),
    timeoutMs: z.number().int().positive().optional(),
  };
}

/** A base URL: https, or plain http only to a loopback host (the sandboxes). */
export const baseUrlSchema = z.url().superRefine((value, ctx) => {
  const url = new URL(value);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  ctx.addIssue({
    code: 'custom',
    message: `plain ${url.protocol}// is refused for a non-loopback host (${url.hostname}): use https://`,
  });
});

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
