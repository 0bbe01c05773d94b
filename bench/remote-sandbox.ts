/**
 * The provider sandbox in a child process (sandbox-host.ts), with the parts of the in-process
 * Sandbox API the benchmarks use: base URLs, credentials, the request log, reset and close.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SandboxCredentials, SandboxOptions } from '../src/sandbox/server.js';
import type { ProviderType, RecordedRequest } from '../src/sandbox/types.js';
import type { ProviderEndpoint } from './tenant.js';

export type HostRequest = { id: number; op: 'requests' | 'reset' | 'close' };
export interface HostReply {
  id: number;
  requests?: RecordedRequest[];
  ready?: { baseUrls: Record<ProviderType, string>; credentials: SandboxCredentials; tracklyList: string };
}

export interface RemoteSandbox {
  baseUrl(type: ProviderType): string;
  /** How a tenant reaches `type` on this sandbox (with `batchSize` / `rateLimit` when given). */
  endpoint(type: ProviderType, overrides?: Pick<ProviderEndpoint, 'batchSize' | 'rateLimit'>): ProviderEndpoint;
  requests(): Promise<RecordedRequest[]>;
  /** No contacts, an empty log, fresh rate windows. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startRemoteSandbox(options: SandboxOptions): Promise<RemoteSandbox> {
  const child = fork(join(import.meta.dirname, 'sandbox-host.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (reply: HostReply) => void>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<NonNullable<HostReply['ready']>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sandbox process exited (${code}) before it was ready`)));
    child.on('message', (reply: HostReply) => {
      if (reply.ready) resolve(reply.ready);
      else waiting.get(reply.id)?.(reply);
      waiting.delete(reply.id);
    });
  });

  const ask = (op: HostRequest['op']): Promise<HostReply> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ id, op } satisfies HostRequest);
    });

  return {
    baseUrl: (type) => ready.baseUrls[type],
    endpoint: (type, overrides = {}) => ({ type, baseUrl: ready.baseUrls[type], settings: settingsOf(type, ready), ...overrides }),
    requests: async () => (await ask('requests')).requests ?? [],
    reset: async () => {
      await ask('reset');
    },
    close: async () => {
      if (child.exitCode === null && child.connected) await ask('close');
      await stop(child, exited);
    },
  };
}

function settingsOf(type: ProviderType, ready: NonNullable<HostReply['ready']>): Record<string, unknown> {
  switch (type) {
    case 'twilio':
      return { accountSid: ready.credentials.twilio.accountSid, authToken: ready.credentials.twilio.authToken };
    case 'trackly':
      return { apiKey: ready.credentials.trackly.apiKey, listNumber: ready.tracklyList };
    case 'oliai':
      return { apiKey: ready.credentials.oliai.apiKey };
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const timer = setTimeout(() => child.kill(), 5_000);
  await exited;
  clearTimeout(timer);
}
