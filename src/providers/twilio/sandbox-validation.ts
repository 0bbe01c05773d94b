/**
 * Field checks of the Twilio Contacts sandbox (error 30647 reasons): ISO 3166-1 alpha-2 country
 * codes and postal code formats per country.
 */

/** The 249 officially assigned ISO 3166-1 alpha-2 codes. */
const isoCountries = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV ' +
    'BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ' +
    'ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE ' +
    'IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY ' +
    'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU ' +
    'NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM ' +
    'SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE ' +
    'VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

export function isIsoCountry(value: unknown): value is string {
  return typeof value === 'string' && isoCountries.has(value);
}

/** Postal code formats of the countries the sandbox knows; others get the generic rule. */
const zipFormats: Readonly<Record<string, RegExp>> = {
  US: /^\d{5}(-\d{4})?$/,
  CA: /^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$/i,
  GB: /^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$/i,
  IN: /^[1-9]\d{5}$/,
  DE: /^\d{5}$/,
  FR: /^\d{5}$/,
  ES: /^\d{5}$/,
  IT: /^\d{5}$/,
  MX: /^\d{5}$/,
  BR: /^\d{5}-?\d{3}$/,
  JP: /^\d{3}-?\d{4}$/,
  AU: /^\d{4}$/,
  NL: /^\d{4} ?[A-Z]{2}$/i,
};

/** Any country not listed above: letters and digits, optionally in groups split by a space or "-", at most 10 characters. */
const genericZip = /^[A-Za-z0-9]+([ -][A-Za-z0-9]+)*$/;

/** Whether `zip` is a postal code of `country` (undefined: the country is unknown). */
export function isZipOf(zip: string, country: string | undefined): boolean {
  const format = country === undefined ? undefined : zipFormats[country];
  if (format) return format.test(zip);
  return zip.length <= 10 && genericZip.test(zip);
}
