/** Log lines while the progress bars own the terminal: printed through the bars, above them, in order, none lost. */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { SyncProgressBars } from '../../src/cli/output/progress.js';
import { createLogger } from '../../src/log/logger.js';

function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
  return { stream, text: () => chunks.join('') };
}

it('diverted log lines go through the bars, each once and in order; undiverted ones to the logger destination', () => {
  const direct: string[] = [];
  const { logger, divert } = createLogger({ pretty: false, destination: { write: (line: string) => void direct.push(line) } });
  const terminal = fakeTerminal();
  const bars = new SyncProgressBars(terminal.stream);
  divert((text) => bars.log(text));
  logger.info('before any bar');
  bars.update({ provider: 'twilio', done: 25, planned: 100, rejected: 0, retries: 0 });
  logger.warn('first');
  bars.update({ provider: 'twilio', done: 50, planned: 100, rejected: 0, retries: 1 });
  logger.warn('second');
  bars.stop();
  divert(undefined);
  logger.info('after');

  const drawn = terminal.text();
  const order = ['before any bar', 'first', 'second'].map((msg) => drawn.indexOf(`"msg":"${msg}"`));
  expect(order.every((at) => at >= 0), drawn).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(drawn.split('"msg":"first"')).toHaveLength(2);
  expect(direct.map((line) => JSON.parse(line).msg)).toEqual(['after']);
});
