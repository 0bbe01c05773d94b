/**
 * `contact-sync sandbox [--port N] [--time-scale X]`: starts the emulators, prints what a person
 * needs to use them (base URLs, credentials, curl commands, a tenant config fragment) and keeps
 * them up until SIGINT or SIGTERM.
 */
import { startSandbox, type Sandbox } from './server.js';
import type { RateLimit } from '../providers/types.js';
import type { ProviderType } from './types.js';

export const defaultSandboxPort = 4010;

export interface SandboxCommandOptions {
  /** Default 4010. */
  port?: number;
  /** Default 1. */
  timeScale?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

const titles: Record<ProviderType, string> = {
  twilio: 'Twilio Contacts API',
  trackly: 'Trackly SMS API v2',
  oliai: 'OliAI contacts API',
};

function describeLimits(limits: readonly RateLimit[], timeScale: number): string {
  return limits
    .map((l) => {
      const seconds = l.perSeconds / timeScale;
      const window = seconds >= 1 ? `${Number(seconds.toPrecision(4))} s` : `${Number((seconds * 1000).toPrecision(4))} ms`;
      const scope = l.scope === 'all' ? '' : ` (${l.scope} endpoints)`;
      return `${l.requests} requests / ${window}${scope}`;
    })
    .join(', ');
}

/** What the command prints once the sandbox is listening. */
export function sandboxBanner(sandbox: Sandbox, timeScale: number): string {
  const { twilio, trackly, oliai } = sandbox.credentials;
  const list = sandbox.trackly.lists[0] ?? '+18005551234';
  const twilioItem = JSON.stringify({
    contact_id: '+14155552671',
    correlation_id: '0123456789abcdef0123456789abcdef',
    country_iso_code: 'US',
    zip_code: '94105',
  });
  const lines = [
    `contact-sync sandbox listening on ${sandbox.url}` +
      (timeScale === 1 ? '' : ` (time scale ${timeScale}: rate-limit windows last 1/${timeScale} of their documented length)`),
    '',
    `${titles.twilio}  ${sandbox.baseUrl('twilio')}`,
    `  accountSid ${twilio.accountSid}   authToken ${twilio.authToken}`,
    `  limits: ${describeLimits(sandbox.twilio.defaultLimits, timeScale)}`,
    `${titles.trackly}  ${sandbox.baseUrl('trackly')}`,
    `  X-Api-Key ${trackly.apiKey}   sending lists ${sandbox.trackly.lists.join(', ')}`,
    `  limits: ${describeLimits(sandbox.trackly.defaultLimits, timeScale)}`,
    `${titles.oliai}  ${sandbox.baseUrl('oliai')}`,
    `  x-api-key ${oliai.apiKey}`,
    `  limits: ${describeLimits(sandbox.oliai.defaultLimits, timeScale)}`,
    '',
    'Try:',
    `  curl -X POST '${sandbox.baseUrl('twilio')}/v1/Contacts/Bulk' -u '${twilio.accountSid}:${twilio.authToken}' \\`,
    `    --data-urlencode 'Items=${twilioItem}'`,
    `  curl -X POST '${sandbox.baseUrl('trackly')}/contacts/bulk' -H 'X-Api-Key: ${trackly.apiKey}' -H 'Content-Type: application/json' \\`,
    `    -d '{"contacts":[{"phone_number":"+14155552671","list_number":"${list}","custom_fields":{"name":"Jane"}}]}'`,
    `  curl '${sandbox.baseUrl('trackly')}/contacts?list_number=${encodeURIComponent(list)}&active=true' -H 'X-Api-Key: ${trackly.apiKey}'`,
    `  curl -X POST '${sandbox.baseUrl('oliai')}/contacts/bulk' -H 'x-api-key: ${oliai.apiKey}' -H 'Content-Type: application/json' \\`,
    `    -d '{"contacts":[{"name":"Priya Sharma","phoneNumber":"+919876543210","language":"hi-IN"}]}'`,
    `  curl '${sandbox.baseUrl('oliai')}/contacts?search=priya' -H 'x-api-key: ${oliai.apiKey}'`,
    '',
    'Tenant config (providers):',
    `  - { name: twilio, type: twilio, baseUrl: "${sandbox.baseUrl('twilio')}", accountSid: "${twilio.accountSid}", authToken: "${twilio.authToken}" }`,
    `  - { name: trackly, type: trackly, baseUrl: "${sandbox.baseUrl('trackly')}", apiKey: "${trackly.apiKey}", listNumber: "${list}" }`,
    `  - { name: oliai, type: oliai, baseUrl: "${sandbox.baseUrl('oliai')}", apiKey: "${oliai.apiKey}" }`,
    '',
    'The demo tenant (config/tenants/demo.yaml) reads these variables:',
    `  export DEMO_TWILIO_URL=${sandbox.baseUrl('twilio')} DEMO_TWILIO_ACCOUNT_SID=${twilio.accountSid} DEMO_TWILIO_AUTH_TOKEN=${twilio.authToken}`,
    `  export DEMO_TRACKLY_URL=${sandbox.baseUrl('trackly')} DEMO_TRACKLY_API_KEY=${trackly.apiKey}`,
    `  export DEMO_OLIAI_URL=${sandbox.baseUrl('oliai')} DEMO_OLIAI_API_KEY=${oliai.apiKey}`,
    ...(timeScale === 1 ? [] : [`  contact-sync --time-scale ${timeScale} sync --config config/tenants/demo.yaml   # the same time scale as this sandbox`]),
    '',
    'Press Ctrl-C to stop.',
  ];
  return lines.join('\n') + '\n';
}

/**
 * Starts the sandbox and prints the banner to `out`. Resolves once it is listening; it then stays
 * up (the open server keeps the process alive) until SIGINT or SIGTERM closes it (`sandbox.closed`
 * resolves then).
 */
export async function runSandboxCommand(options: SandboxCommandOptions, out: NodeJS.WritableStream): Promise<Sandbox> {
  const timeScale = options.timeScale ?? 1;
  const sandbox = await startSandbox({
    port: options.port ?? defaultSandboxPort,
    timeScale,
    ...(options.host === undefined ? {} : { host: options.host }),
  });
  out.write(sandboxBanner(sandbox, timeScale));
  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    out.write(`\n${signal}: stopping the sandbox\n`);
    void sandbox.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return sandbox;
}
