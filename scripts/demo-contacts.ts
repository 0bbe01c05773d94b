/**
 * The demo tenant's contacts (config/demo/contacts.csv), generated from a seed so the file is the
 * same on every machine: realistic names (accents, Devanagari, Japanese), phones in E.164 and
 * national formats valid for their region, postal codes, languages and two attribute columns, with
 * a few invalid numbers and a few phones shared by two rows in different spellings, so that a demo
 * sync shows every outcome.
 */
import { type CountryCode, getExampleNumber, parsePhoneNumberWithError, type PhoneNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { mulberry32 } from '../src/random.js';

export interface DemoCsvOptions {
  rows?: number;
  seed?: number;
}

interface Country {
  code: CountryCode;
  weight: number;
  languages: readonly string[];
  /** Leading digits of national (mobile) numbers in use, e.g. US area codes. */
  prefixes: readonly string[];
  names: () => string;
  zip: () => string;
}

export function generateDemoCsv(options: DemoCsvOptions = {}): string {
  const total = options.rows ?? 3_000;
  const rnd = mulberry32(options.seed ?? 20_240_601);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
  const chance = (p: number): boolean => rnd() < p;
  const western = (first: readonly string[], last: readonly string[]) => (): string => `${pick(first)} ${pick(last)}`;

  const countries: Country[] = [
    {
      code: 'US',
      prefixes: ['212', '415', '312', '617', '305', '206', '512', '303', '202', '713'],
      weight: 30,
      languages: ['en-US', 'en-US', 'en-US', 'en-US', 'es-US'],
      names: western(['James', 'Mary', 'Robert', 'Patricia', 'Zoë', 'José', 'Chloé', 'Aaliyah', 'DeShawn', 'Mei'], ['Smith', 'Johnson', 'Núñez', 'García', 'Williams', 'Nguyen', 'Brown', "O'Connor", 'Kowalski']),
      zip: () => `${pick(['10', '30', '60', '77', '90', '94', '98', '02', '33'])}${digits(3)}`,
    },
    {
      code: 'GB',
      prefixes: ['7400', '7700', '7911', '7825', '7507'],
      weight: 12,
      languages: ['en-GB'],
      names: western(['Oliver', 'Amelia', 'Zoë', 'Siobhan', 'Rhys', 'Aoife', 'Harry', 'Łukasz'], ['Smith', 'Jones', 'Taylor', 'Brontë', 'Davies', 'MacDonald', 'Nowak', 'Evans']),
      zip: () => `${pick(['SW1A', 'EC1V', 'M1', 'B33', 'LS1', 'EH1', 'CF10', 'G2', 'BS1'])} ${digits(1)}${pick(['AA', 'AB', 'DX', 'HF', 'NP', 'QT', 'UW'])}`,
    },
    {
      code: 'IN',
      prefixes: ['98', '97', '81', '70', '99'],
      weight: 15,
      languages: ['hi-IN', 'en-IN'],
      names: () =>
        chance(0.4)
          ? `${pick(['प्रिया', 'राहुल', 'अनीता', 'विकास', 'सुनीता', 'अर्जुन'])} ${pick(['शर्मा', 'वर्मा', 'गुप्ता', 'सिंह', 'पटेल'])}`
          : `${pick(['Priya', 'Rahul', 'Anita', 'Vikram', 'Sunita', 'Arjun', 'Lakshmi'])} ${pick(['Sharma', 'Patel', 'Iyer', 'Reddy', 'Singh', 'Banerjee'])}`,
      zip: () => `${1 + Math.floor(rnd() * 8)}${digits(5)}`,
    },
    {
      code: 'DE',
      prefixes: ['151', '160', '170', '176'],
      weight: 10,
      languages: ['de-DE'],
      names: western(['Jürgen', 'Anna', 'Lukas', 'Sophie', 'Björn', 'Lena', 'Maximilian'], ['Müller', 'Schmidt', 'Schröder', 'Weiß', 'Groß', 'Fischer', 'Öztürk']),
      zip: () => `${1 + Math.floor(rnd() * 9)}${digits(4)}`,
    },
    {
      code: 'FR',
      prefixes: ['6', '7'],
      weight: 8,
      languages: ['fr-FR'],
      names: western(['Élodie', 'François', 'Chloé', 'Jérôme', 'Maëlle', 'Noël', 'Camille'], ['Dupont', 'Lefèvre', 'Béranger', 'Moreau', 'Girard', 'Château']),
      zip: () => `${String(1 + Math.floor(rnd() * 95)).padStart(2, '0')}${digits(3)}`,
    },
    {
      code: 'BR',
      prefixes: ['119', '219', '319', '419'],
      weight: 10,
      languages: ['pt-BR'],
      names: western(['João', 'Maria', 'Conceição', 'Luís', 'Ana', 'Thiago', 'Letícia'], ['Silva', 'Araújo', 'Gonçalves', 'Simões', 'Souza', 'Pereira']),
      zip: () => `${digits(5)}-${digits(3)}`,
    },
    {
      code: 'JP',
      prefixes: ['90', '80', '70'],
      weight: 7,
      languages: ['ja-JP'],
      names: () =>
        chance(0.6) ? `${pick(['山田', '佐藤', '鈴木', '高橋', '田中'])} ${pick(['太郎', '花子', '翔太', '美咲', '健'])}` : `${pick(['Taro', 'Hanako', 'Shota', 'Misaki', 'Ken'])} ${pick(['Yamada', 'Satō', 'Suzuki', 'Takahashi', 'Tanaka'])}`,
      zip: () => `${digits(3)}-${digits(4)}`,
    },
    {
      code: 'MX',
      prefixes: ['55', '33', '81', '222'],
      weight: 8,
      languages: ['es-MX'],
      names: western(['José', 'Guadalupe', 'María José', 'Íñigo', 'Sofía', 'Ángel'], ['Hernández', 'López', 'Martínez', 'Núñez', 'Pérez', 'Ramírez']),
      zip: () => `${String(1 + Math.floor(rnd() * 99)).padStart(2, '0')}${digits(3)}`,
    },
  ];
  const weights = countries.reduce((sum, c) => sum + c.weight, 0);
  const pickCountry = (): Country => {
    let r = rnd() * weights;
    for (const c of countries) if ((r -= c.weight) < 0) return c;
    return countries[0]!;
  };

  /** A valid number of the region: a prefix in use, then digits drawn until valid, as long as the region's example mobile. */
  const validPhone = (country: Country): PhoneNumber => {
    const length = getExampleNumber(country.code, examples)!.nationalNumber.length;
    for (;;) {
      const prefix = pick(country.prefixes);
      const phone = parsePhoneNumberWithError(`${prefix}${digits(length - prefix.length)}`, country.code);
      // Some ranges of +44 belong to Jersey, Guernsey or the Isle of Man: keep numbers of the region itself.
      if (phone.isValid() && phone.country === country.code) return phone;
    }
  };

  /** The number as people write it: E.164, national, international, 00-prefixed or dotted. */
  const spelled = (phone: PhoneNumber): string => {
    const r = rnd();
    if (r < 0.45) return phone.number;
    if (r < 0.75) return phone.formatNational();
    if (r < 0.9) return phone.formatInternational();
    if (r < 0.95) return `00${phone.number.slice(1)}`;
    return phone.formatNational().replace(/[\s()-]+/g, '.').replace(/^\.|\.$/g, '');
  };

  const invalidPhones = ['555-0100', '12345', '+44 20 7946', 'not available', 'n/a', '+1 415 555 2671 ext. 12', '', '0000000000', '+999 123 4567'];
  const start = Date.parse('2024-01-01T00:00:00Z');
  const span = Date.parse('2024-06-30T00:00:00Z') - start;
  const when = (): string => new Date(start + Math.floor(rnd() * span / 1000) * 1000).toISOString().replace('.000Z', 'Z');

  const header = ['id', 'phone', 'name', 'language', 'country', 'zip', 'updated_at', 'plan', 'vip'];
  const lines = [header.join(',')];
  const issued: { phone: PhoneNumber; country: CountryCode }[] = [];
  for (let i = 1; i <= total; i++) {
    const country = pickCountry();
    let phoneText: string;
    let countryText: string = country.code;
    if (chance(0.025)) {
      phoneText = pick(invalidPhones);
    } else if (issued.length > 20 && chance(0.005)) {
      // The same person entered twice: one phone, another spelling (SPEC section 4 duplicate rule).
      const earlier = pick(issued);
      phoneText = earlier.phone.formatInternational();
      countryText = earlier.country;
    } else {
      const phone = validPhone(country);
      issued.push({ phone, country: country.code });
      phoneText = spelled(phone);
      // Some rows leave the country to the number (E.164 only) or write it in lower case.
      if (phoneText.startsWith('+') && chance(0.04)) countryText = '';
      else if (chance(0.02)) countryText = country.code.toLowerCase();
    }
    const row = [
      `c${String(i).padStart(5, '0')}`,
      phoneText,
      country.names(),
      chance(0.05) ? '' : pick(country.languages),
      countryText,
      chance(0.03) ? '' : country.zip(),
      when(),
      rnd() < 0.6 ? 'free' : rnd() < 0.75 ? 'pro' : 'enterprise',
      chance(0.1) ? 'true' : 'false',
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
