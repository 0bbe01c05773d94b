/**
 * Normalises the phones of a page of source rows in a worker thread, so the planner's thread
 * reads, matches and maps the next page meanwhile (libphonenumber-js with `max` metadata costs
 * about as much per row as the rest of the plan together). One worker per process, shared by
 * every tenant; it keeps the process alive only while a page is in it. Small pages, and code run
 * from TypeScript sources (tests, where no compiled worker script exists), normalise in this
 * thread: the results are the same function's either way.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SourceContact } from './contact.js';
import { type ContactResult, type NormalisedPhone, contactFrom, rowCountry, toContact } from './normalise.js';

export interface PhoneRequest {
  id: number;
  defaultCountry: string | undefined;
  phones: (string | null)[];
  countries: (string | null)[];
}

export interface PhoneResponse {
  id: number;
  results: NormalisedPhone[];
}

/** Normalises a page of rows; the results are in the rows' order. */
export type NormalisePage = (rows: readonly SourceContact[]) => Promise<ContactResult[]>;

/** Below this many rows a page is normalised in this thread: the round trip would cost more. */
const workerMinRows = 256;

const workerScript = fileURLToPath(new URL('./phone-worker.js', import.meta.url));

class PhoneWorker {
  #worker: Worker | undefined;
  #broken = false;
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: (results: NormalisedPhone[]) => void; reject: (error: Error) => void }>();

  /** Undefined when no worker can run here (no compiled script, or it failed once). */
  normalise(request: Omit<PhoneRequest, 'id'>): Promise<NormalisedPhone[]> | undefined {
    const worker = this.#start();
    if (worker === undefined) return undefined;
    const id = this.#nextId++;
    if (this.#waiting.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies PhoneRequest);
    });
  }

  #start(): Worker | undefined {
    if (this.#worker !== undefined || this.#broken) return this.#worker;
    if (!existsSync(workerScript)) {
      this.#broken = true;
      return undefined;
    }
    const worker = new Worker(workerScript);
    worker.unref();
    worker.on('message', ({ id, results }: PhoneResponse) => {
      const waiting = this.#waiting.get(id);
      this.#waiting.delete(id);
      if (this.#waiting.size === 0) worker.unref();
      waiting?.resolve(results);
    });
    const fail = (error: Error): void => {
      // The pages in it are normalised in this thread instead (see pageNormaliser); so is every later one.
      this.#broken = true;
      this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the phone worker exited (${code})`)));
    this.#worker = worker;
    return worker;
  }
}

const shared = new PhoneWorker();

export function pageNormaliser(defaultCountry: string | undefined): NormalisePage {
  const inThread = (rows: readonly SourceContact[]): ContactResult[] => rows.map((row) => toContact(row, defaultCountry));
  return async (rows) => {
    if (rows.length < workerMinRows) return inThread(rows);
    const pending = shared.normalise({ defaultCountry, phones: rows.map((r) => r.phone), countries: rows.map(rowCountry) });
    if (pending === undefined) return inThread(rows);
    try {
      const phones = await pending;
      return rows.map((row, i) => contactFrom(row, phones[i]!));
    } catch {
      return inThread(rows);
    }
  };
}

/** A per-row normaliser as a page normaliser (tests' stand-ins, and callers that have one row at a time). */
export function eachRow(normalise: (row: SourceContact) => ContactResult): NormalisePage {
  return async (rows) => rows.map(normalise);
}
