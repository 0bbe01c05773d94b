import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  url: string;
  /** Bodies and content types of the requests passed on, in order. */
  recorded: { path: string; contentType: string | undefined; body: string }[];
  close(): Promise<void>;
}

/** A loopback proxy that records each request body and passes the request on to `target`. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const recorded: RecordingProxy['recorded'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      recorded.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept', 'x-api-key']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(`${target}${req.url ?? ''}`, { method: req.method ?? 'GET', headers, ...(body === '' ? {} : { body }) })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(await answer.text());
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recorded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
