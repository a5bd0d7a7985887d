// Formatting and small data helpers shared by the pages.

export const fmt = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : new Intl.NumberFormat('en-US').format(n);

/** Micro-dollars as dollars: `$12.34`, small amounts with up to 6 decimals (`$0.000125`). */
export function usd(micros: number | null | undefined): string {
  if (micros === null || micros === undefined) return '—';
  const sign = micros < 0 ? '−' : '';
  const m = Math.abs(micros);
  const whole = Math.floor(m / 1_000_000);
  const frac = String(m % 1_000_000).padStart(6, '0');
  const cents = m >= 10_000 ? frac.slice(0, 2) + frac.slice(2).replace(/0+$/, '') : frac.replace(/0+$/, '').padEnd(2, '0');
  return `${sign}$${new Intl.NumberFormat('en-US').format(whole)}.${cents}`;
}

/** A dollar amount typed by the owner (`12.5`, `0.000125`) as integer micro-dollars, exactly; `null` when it is not one. */
export function dollarsToMicros(text: string): number | null {
  const m = /^\s*\$?\s*(\d{0,12})(?:\.(\d{0,6}))?\s*$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return null;
  return Number(m[1] || '0') * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** Micro-dollars as the plain decimal an input shows (`2.5`). */
export function microsToDollars(micros: number): string {
  const frac = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return `${Math.floor(micros / 1_000_000)}${frac ? `.${frac}` : ''}`;
}

export const pct = (used: number, limit: number | null): number | null =>
  limit === null || limit <= 0 ? null : Math.min(100, Math.round((used / limit) * 1000) / 10);

/** YYYY-MM-DD of a UTC day `offset` days from today. */
export function utcDay(offset = 0, now = Date.now()): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offset)).toISOString().slice(0, 10);
}

/** "in 3 h 12 min" style countdown to an ISO time. */
export function countdown(iso: string, now = Date.now()): string {
  let s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s} s`;
  return `${s} s`;
}

export function timeAgo(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted. */
export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    // A leading = + - @ would be read as a formula by spreadsheets.
    const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export function downloadText(filename: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
