/**
 * Worker thread of the phone pool (phone-pool.ts): normalises the phones of a page of source rows
 * with libphonenumber-js, the planner's costliest step per row, off the planner's thread.
 */
import { parentPort } from 'node:worker_threads';
import { normalisePhone } from './normalise.js';
import type { PhoneRequest, PhoneResponse } from './phone-pool.js';

parentPort!.on('message', ({ id, defaultCountry, phones, countries }: PhoneRequest) => {
  const results = phones.map((phone, i) => normalisePhone(phone, { country: countries[i], defaultCountry }));
  parentPort!.postMessage({ id, results } satisfies PhoneResponse);
});
