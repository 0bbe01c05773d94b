/**
 * Figure 6, first sync to Twilio at its real limit: from the measured Twilio rate-limit use
 * (figure 3, time-scaled), the wall time to deliver N contacts at 100 requests/min × 25 items,
 * against the bound no client can beat (every request full, every window full).
 */
import type { FigureResult } from '../results.js';
import type { RateMeasurement } from './rate.js';

const documented = { requestsPerMinute: 100, items: 25 };

export function twilioProjection(measured: RateMeasurement, contacts = 1_000_000): FigureResult {
  const requests = Math.ceil(contacts / documented.items);
  const boundMinutes = requests / documented.requestsPerMinute;
  // Time per request at the real limit is the measured share of the scaled limit, scaled back.
  const projectedMinutes = boundMinutes / measured.utilisation;
  return {
    figure: 'twilio',
    title: `first sync of ${contacts.toLocaleString('en-US')} contacts to Twilio at its real limit (projected from figure 3)`,
    params: { contacts, requestsPerMinute: documented.requestsPerMinute, items: documented.items, measuredUtilisation: measured.utilisation },
    checks: [
      { name: `bound: ${requests.toLocaleString('en-US')} full requests at ${documented.requestsPerMinute}/min`, target: '', measured: duration(boundMinutes), pass: null },
      { name: 'contact-sync, projected', target: '', measured: duration(projectedMinutes), pass: null },
      { name: 'contact-sync / bound', target: `≥ 97 % of the bound's rate`, measured: `${(measured.utilisation * 100).toFixed(1)} %`, pass: measured.utilisation >= 0.97 },
    ],
    data: { requests, boundMinutes, projectedMinutes },
    notes: ['the plan of 1,000,000 contacts (figure 1) adds well under a minute; the request stream is what takes hours'],
  };
}

function duration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes - h * 60);
  return `${h} h ${String(m).padStart(2, '0')} min`;
}
