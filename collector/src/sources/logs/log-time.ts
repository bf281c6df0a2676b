// PostgreSQL prints times as "YYYY-MM-DD HH:MM:SS[.mmm] ZONE" where ZONE is the abbreviation
// of log_timezone (UTC, CEST, MSK, …) or a numeric offset ("+03", "-0330") for zones without one.
// Abbreviations are ambiguous in general; this table holds the common unambiguous ones and
// anything else is read as UTC and reported, so a DBA can set the zone in config.

const ZONE_MINUTES: Readonly<Record<string, number>> = {
  UTC: 0,
  GMT: 0,
  Z: 0,
  UCT: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  IST: 60,
  CET: 60,
  CEST: 120,
  MET: 60,
  MEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  MSD: 240,
  SAST: 120,
  CAT: 120,
  EAT: 180,
  WAT: 60,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  NZST: 720,
  NZDT: 780,
  AEST: 600,
  AEDT: 660,
  ACST: 570,
  ACDT: 630,
  AWST: 480,
  JST: 540,
  KST: 540,
  HKT: 480,
  SGT: 480,
  PHT: 480,
  WIB: 420,
  PKT: 300,
};

export function zoneOffsetMinutes(zone: string): number | undefined {
  const known = ZONE_MINUTES[zone];
  if (known !== undefined) return known;
  const c = zone.charCodeAt(0);
  if (c === 43 /* + */ || c === 45 /* - */) {
    const digits = zone.slice(1).replace(':', '');
    if (!/^\d{2}(\d{2})?$/.test(digits)) return undefined;
    const m = Number(digits.slice(0, 2)) * 60 + (digits.length === 4 ? Number(digits.slice(2)) : 0);
    return c === 43 ? m : -m;
  }
  return undefined;
}

const d2 = (s: string, i: number): number => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/** Parses "YYYY-MM-DD HH:MM:SS[.fff][ ZONE]" to epoch milliseconds; NaN when it is not one. */
export function pgTimeToMillis(s: string, defaultOffsetMinutes = 0): number {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN;
  const year = d2(s, 0) * 100 + d2(s, 2);
  let ms = Date.UTC(year, d2(s, 5) - 1, d2(s, 8), d2(s, 11), d2(s, 14), d2(s, 17));
  let i = 19;
  if (s.charCodeAt(i) === 46 /* . */) {
    let frac = 0,
      scale = 100;
    for (i++; i < s.length; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale /= 10;
    }
    ms += Math.floor(frac);
  }
  let offset = defaultOffsetMinutes;
  if (s.charCodeAt(i) === 32) {
    const z = zoneOffsetMinutes(s.slice(i + 1).trim());
    if (z !== undefined) offset = z;
  }
  return Number.isNaN(ms) ? NaN : ms - offset * 60_000;
}

let lastKey = '';
let lastIso: string | null = null;

/** ISO 8601 (UTC) of a PostgreSQL time string, or of a %n epoch ("1669575482.096"); null if neither. */
export function pgTimeToIso(s: string, defaultOffsetMinutes = 0): string | null {
  // Consecutive records share their timestamp text very often; converting once saves real time.
  if (s === lastKey) return lastIso;
  let ms: number;
  if (s.length >= 10 && s.charCodeAt(4) !== 45) ms = Number(s) * 1000;
  else ms = pgTimeToMillis(s, defaultOffsetMinutes);
  lastKey = s;
  lastIso = Number.isFinite(ms) ? new Date(ms).toISOString() : null;
  return lastIso;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Syslog's "Mon DD HH:MM:SS" has no year and no zone: the year is the one that puts it nearest
 *  before `now`, the zone is the configured one. */
export function syslogTimeToIso(month: string, day: number, hms: string, offsetMinutes: number, now = Date.now()): string | null {
  const mon = MONTHS.indexOf(month);
  if (mon < 0) return null;
  const [h, m, s] = hms.split(':').map(Number);
  let year = new Date(now).getUTCFullYear();
  let ms = Date.UTC(year, mon, day, h, m, s) - offsetMinutes * 60_000;
  if (ms > now + 86_400_000) ms = Date.UTC(--year, mon, day, h, m, s) - offsetMinutes * 60_000;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
