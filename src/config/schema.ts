/** The tenant config (SPEC section 3). This schema is the single source of the config's types. */
import { z } from 'zod';
import { oliaiConfigSchema } from '../providers/oliai/config.js';
import { tracklyConfigSchema } from '../providers/trackly/config.js';
import { twilioConfigSchema } from '../providers/twilio/config.js';

export const providerConfigSchema = z.discriminatedUnion('type', [twilioConfigSchema, tracklyConfigSchema, oliaiConfigSchema]);
export type ProviderConfig = z.infer<typeof providerConfigSchema>;

const storeUrl = z
  .string()
  .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'a store URL: sqlite:<path> or postgres://…');

export const canonicalColumns = ['id', 'phone', 'name', 'language', 'country', 'zip', 'attributes', 'updated_at'] as const;

export const tenantConfigSchema = z
  .object({
    $schema: z.string().optional().describe('JSON Schema of this file, for editors'),
    tenant: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and "-"').describe('Tenant name: lower-case letters, digits and "-"'),
    /** Engine state store; default sqlite:data/<tenant>.state.db (relative to the config file's directory). */
    state: storeUrl.optional().describe('Engine state store: sqlite:<path> (relative to this file) or postgres://…; default sqlite:data/<tenant>.state.db'),
    source: z
      .object({
        url: storeUrl.describe('Source of truth: sqlite:<path> (relative to this file) or postgres://…'),
        table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a table or view name').default('contacts').describe('Table or view holding the contacts'),
        /** Canonical name -> column of the user's table; unnamed ones map to themselves. */
        columns: z
          .partialRecord(z.enum(canonicalColumns), z.string().min(1))
          .default({})
          .describe("Canonical name -> column of your own table; names not given map to themselves"),
        defaultCountry: z
          .string()
          .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as "US"')
          .optional()
          .describe('Region for phone numbers written without +country code when the row has no country'),
      })
      .strict(),
    schedule: z.string().optional().describe('Cron schedule of the daemon, e.g. "*/15 * * * *"'),
    timezone: z.string().default('UTC').describe('IANA time zone of the schedule'),
    safety: z
      .object({
        maxDeletePercent: z.number().min(0).max(100).default(10).describe("Refuse a run whose deletes exceed this share of a provider's synced contacts"),
        /** A source read with fewer rows than this share of the delivered baseline is refused as "mostly empty". */
        minSourcePercent: z.number().min(0).max(100).default(50),
      })
      .strict()
      .default({ maxDeletePercent: 10, minSourcePercent: 50 }),
    providers: z
      .array(providerConfigSchema)
      .min(1, 'at least one provider')
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((p, i) => {
          if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate provider name "${p.name}"` });
          seen.add(p.name);
        });
      }),
  })
  .strict();

export type TenantConfig = z.infer<typeof tenantConfigSchema>;
/** The config as written in the file (before defaults). */
export type TenantConfigInput = z.input<typeof tenantConfigSchema>;
