/** Strict parsing of instants that arrive from clients. Pure. */

/** `2024-05-01T12:00:00Z`, `…:00.123+02:00`: seconds and a zone are required (no local time). */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An ISO-8601 instant to epoch ms, or `undefined` when malformed or not a real date (Date.parse
 * alone accepts `2024-02-30`). Fractions beyond milliseconds are truncated.
 */
export const parseIsoTimestamp = (value: string): number | undefined => {
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return utc.getTime() - offsetMinutes * 60_000;
};

/** A query parameter instant: ISO-8601 as above, or epoch milliseconds as digits. */
export const parseInstantParam = (value: string): number | undefined => {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  return parseIsoTimestamp(value);
};
