/** Writes config files into a fresh temp dir and loads them, returning the ConfigError's issues. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

export function tempDir(prefix = 'cs-config-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

export const sid = `AC${'0123456789abcdef'.repeat(2)}`;

/** A valid YAML config with the three providers, in which tests replace lines. */
export const validYaml = `tenant: acme
source:
  url: sqlite:data/acme.db
  defaultCountry: US
providers:
  - name: twilio
    type: twilio
    accountSid: \${TWILIO_ACCOUNT_SID}
    authToken: \${TWILIO_AUTH_TOKEN}
  - name: trackly
    type: trackly
    apiKey: \${TRACKLY_API_KEY}
    listNumber: "+18005551234"
  - name: oliai
    type: oliai
    baseUrl: http://127.0.0.1:4010/oliai/v1
    apiKey: \${OLIAI_API_KEY}
`;

export const env = { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 'tw-token-secret', TRACKLY_API_KEY: 'trk-key-secret', OLIAI_API_KEY: 'oli-key-secret' };

export async function configError(file: string, environment: NodeJS.ProcessEnv = env): Promise<ConfigError> {
  try {
    await loadConfig(file, environment);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without an error`);
}
