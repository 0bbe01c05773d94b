/**
 * An in-memory provider for engine unit and property tests (the real adapters are tested over HTTP
 * against the sandboxes). Remote records are keyed by phone, like Twilio and Trackly. Each item's
 * outcome and each batch's fate can be scripted to exercise the journal.
 */
import type { Contact } from '../../src/source/contact.js';
import type { RequestObserver } from '../../src/http/types.js';
import type { DeleteItem, ItemOutcome, Payload, ProviderAdapter, ProviderCapabilities, UpsertItem } from '../../src/providers/types.js';

export type ItemFate = 'ok' | 'rejected' | 'retryable';
/**
 * ok: answer; throwBefore: fail before applying; throwAfter: apply, then fail (the response is lost);
 * hang: apply, then never answer (the process dies with the request in flight); every later call of
 * that fake hangs before reaching the provider.
 */
export type BatchFate = 'ok' | 'throwBefore' | 'throwAfter' | 'hang';

export interface FakeScript {
  item?: (contactId: string, op: 'upsert' | 'delete') => ItemFate;
  batch?: (call: number) => BatchFate;
}

export class FakeProvider implements ProviderAdapter {
  readonly type = 'fake';
  readonly capabilities: ProviderCapabilities;
  /** phone -> payload the provider holds (may be shared by several fakes: one provider, several processes). */
  readonly remote: Map<string, Payload>;
  /** Called when a batch hangs. */
  onHang: (() => void) | undefined;
  readonly calls: { op: 'upsert' | 'delete'; size: number; correlationIds: string[] }[] = [];
  script: FakeScript = {};
  #dead = false;

  constructor(
    readonly name: string,
    options: { maxBatch?: number; deleteMode?: ProviderCapabilities['deleteMode']; observer?: RequestObserver; remote?: Map<string, Payload> } = {},
  ) {
    this.remote = options.remote ?? new Map();
    this.capabilities = {
      maxBatch: options.maxBatch ?? 3,
      maxDeleteBatch: options.maxBatch ?? 3,
      rateLimits: [],
      canList: true,
      deleteMode: options.deleteMode ?? 'delete',
    };
    this.observer = options.observer;
  }

  readonly observer: RequestObserver | undefined;

  map(contact: Contact): Payload {
    return { phone: contact.phone, name: contact.name ?? '', zip: contact.zip ?? '' };
  }

  phoneOf(payload: Payload): string {
    return payload.phone as string;
  }

  async upsert(items: readonly UpsertItem[]): Promise<ItemOutcome[]> {
    return this.#call('upsert', items, (item) => {
      const phone = this.phoneOf(item.payload);
      this.remote.set(phone, item.payload);
      const old = item.previous === null ? undefined : this.phoneOf(item.previous);
      if (old === undefined || old === phone) return { contactId: item.contactId, status: 'ok' };
      if (this.capabilities.deleteMode === 'none') return { contactId: item.contactId, status: 'ok', orphanedKey: old };
      this.remote.delete(old);
      return { contactId: item.contactId, status: 'ok' };
    }, items.map((i) => i.correlationId));
  }

  async delete(items: readonly DeleteItem[]): Promise<ItemOutcome[]> {
    return this.#call('delete', items, (item) => {
      this.remote.delete(this.phoneOf(item.payload));
      return { contactId: item.contactId, status: 'ok' };
    }, []);
  }

  async *list(): AsyncIterable<{ remoteId: string | null; phone: string; payload: Payload; active: boolean }> {
    for (const [phone, payload] of this.remote) yield { remoteId: null, phone, payload, active: true };
  }

  async #call<T extends { contactId: string }>(op: 'upsert' | 'delete', items: readonly T[], apply: (item: T) => ItemOutcome, correlationIds: string[]): Promise<ItemOutcome[]> {
    const call = this.calls.length;
    this.calls.push({ op, size: items.length, correlationIds });
    this.observer?.onRequest({ provider: this.name, method: 'POST', path: `/${op}`, status: 200, durationMs: 0, attempt: 1 });
    await Promise.resolve();
    // The process that sent a hung request is gone: nothing it sends later reaches the provider.
    if (this.#dead) return new Promise<ItemOutcome[]>(() => {});
    const fate = this.script.batch?.(call) ?? 'ok';
    if (fate === 'throwBefore') throw new Error(`fake ${this.name}: unavailable`);
    const outcomes = items.map((item): ItemOutcome => {
      const itemFate = this.script.item?.(item.contactId, op) ?? 'ok';
      if (itemFate === 'rejected') return { contactId: item.contactId, status: 'rejected', code: 'fake_rejected', reason: 'the fake provider rejected it' };
      if (itemFate === 'retryable') return { contactId: item.contactId, status: 'retryable', code: 'fake_transient', reason: 'try again' };
      return apply(item);
    });
    if (fate === 'throwAfter') throw new Error(`fake ${this.name}: response lost`);
    if (fate === 'hang') {
      this.#dead = true;
      this.onHang?.();
      return new Promise<ItemOutcome[]>(() => {});
    }
    return outcomes;
  }
}
