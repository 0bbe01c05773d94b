/** Option value parsers: a bad value is a commander usage error (exit 2). */
import { InvalidArgumentError } from 'commander';

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a number greater than 0');
  return n;
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0 && n <= 65535)) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}
