/**
 * How the emulators decide that a phone is "a valid E.164 number". 'strict' (the default) is what
 * the providers do: E.164 spelling and a number valid for its country (libphonenumber-js `max`
 * metadata, the same the engine normalises with). 'format' checks only the spelling (+, 7 to 15
 * digits); it costs ~100x less and suits throughput benchmarks.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneValidation = 'strict' | 'format';

const e164 = /^\+[1-9]\d{6,14}$/;

export interface PhoneCheck {
  isValid(phone: unknown): phone is string;
  /** ISO alpha-2 region of a valid number, or undefined when unknown. */
  countryOf(phone: string): string | undefined;
}

export function phoneCheck(mode: PhoneValidation): PhoneCheck {
  return {
    isValid(phone: unknown): phone is string {
      if (typeof phone !== 'string' || !e164.test(phone)) return false;
      return mode === 'format' || parsePhoneNumberFromString(phone)?.isValid() === true;
    },
    countryOf(phone: string): string | undefined {
      return parsePhoneNumberFromString(phone)?.country;
    },
  };
}
