/**
 * Child-process entry: runs the provider sandbox in a process of its own, so the engine under
 * measurement and the emulated providers do not share one event loop (on a 2-core machine they
 * get a core each, as a connector and a remote API would). Driven over IPC by remote-sandbox.ts.
 */
import { type SandboxOptions, startSandbox } from '../src/sandbox/server.js';
import { providerTypes } from '../src/sandbox/types.js';
import type { HostReply, HostRequest } from './remote-sandbox.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SandboxOptions;
const sandbox = await startSandbox(options);
const send = (reply: HostReply): void => {
  process.send?.(reply);
};

process.on('message', (message: HostRequest) => {
  switch (message.op) {
    case 'requests':
      send({ id: message.id, requests: [...sandbox.requests] });
      break;
    case 'reset':
      sandbox.reset();
      send({ id: message.id });
      break;
    case 'close':
      void sandbox.close().then(() => {
        send({ id: message.id });
        process.disconnect();
      });
      break;
  }
});
process.on('disconnect', () => void sandbox.close());

send({
  id: 0,
  ready: {
    baseUrls: Object.fromEntries(providerTypes.map((type) => [type, sandbox.baseUrl(type)])) as Record<(typeof providerTypes)[number], string>,
    credentials: sandbox.credentials,
    tracklyList: sandbox.trackly.lists[0] ?? '+18005551234',
  },
});
