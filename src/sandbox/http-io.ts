/** Reading request bodies and writing JSON responses for the sandbox server. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReadBody {
  data: Buffer;
  /** The body exceeded the cap: it was drained and discarded. */
  tooLarge: boolean;
}

/**
 * Reads the whole body (always to the end, so the connection stays usable for keep-alive), keeping
 * at most `maxBytes`. Resolves null when the client went away before the body was complete.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) return;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ data: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  writeJsonText(res, status, JSON.stringify(body), headers);
}

/** Writes JSON already serialised (a delayed answer is serialised when decided, not when sent). */
export function writeJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The media type of a Content-Type header, lower case and without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * A JSON body as an Express/NestJS server reads one: only with a JSON content type (otherwise it
 * is absent, i.e. undefined); malformed JSON is an error.
 */
export function parseJsonBody(contentType: string, body: Buffer): JsonBody {
  if (contentType !== 'application/json' || body.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A positive integer query parameter: `fallback` when absent, undefined when malformed. */
export function parsePositiveInt(value: string | null, fallback: number): number | undefined {
  if (value === null || value === '') return fallback;
  return /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : undefined;
}

/** A URL path segment decoded ("%2B1415..." -> "+1415..."), or as given when malformed. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
