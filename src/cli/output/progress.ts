/**
 * Progress bars for `sync` on a terminal: one per provider, done/planned, rate, ETA, retries and
 * rejections. Used only when stdout is a TTY, so piped output never carries escape codes.
 */
import cliProgress from 'cli-progress';
import type { SyncProgress } from '../../engine/sync.js';

export class SyncProgressBars {
  readonly #bars: cliProgress.MultiBar;
  readonly #stream: NodeJS.WriteStream;
  readonly #byProvider = new Map<string, { bar: cliProgress.SingleBar; startedAt: number }>();
  #stopped = false;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    this.#bars = new cliProgress.MultiBar(
      {
        stream,
        format: '{provider} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted} | retries {retries} | rejected {rejected}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(event: SyncProgress): void {
    let entry = this.#byProvider.get(event.provider);
    if (entry === undefined) {
      entry = { bar: this.#bars.create(event.planned, 0, { provider: event.provider, rate: 0, retries: 0, rejected: 0 }), startedAt: Date.now() };
      this.#byProvider.set(event.provider, entry);
    }
    // The bar appears with the first finished batch: under a second of history, a rate would be noise.
    const seconds = Math.max(1, (Date.now() - entry.startedAt) / 1000);
    entry.bar.setTotal(event.planned);
    entry.bar.update(event.done, { rate: Math.round(event.done / seconds), retries: event.retries, rejected: event.rejected });
  }

  /**
   * A log line, printed above the bars (both share the terminal): at once, so lines keep their
   * order and none is lost when the bars stop. Before the first bar, and after the last, a plain write.
   */
  log(text: string): void {
    if (this.#byProvider.size === 0 || this.#stopped) {
      this.#stream.write(text);
      return;
    }
    this.#bars.log(text);
    this.#bars.update();
  }

  /** Idempotent: the command stops the bars before printing its summary, and again on error. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bars.stop();
  }
}
