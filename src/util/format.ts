/** Number formatting shared by every command, report and export (en-US, fixed digits: reproducible). One formatter everywhere. */

/** 0.8723 → "87.23%"; null/NaN → "n/a". */
export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(digits)}%`;
}

/** Accuracy difference in percentage points: 0.028 → "2.80 pp". */
export function pp(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(2)} pp`;
}

/** 14816.5 → "14,817". */
export function int(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? 'n/a' : Math.round(v).toLocaleString('en-US');
}

/** 37.735 → "37.7" (digits after the point, thousands separated). */
export function fixed(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Joules with an SI prefix and three significant digits: 3.50e-7 → "350 nJ". */
export function joules(j: number): string {
  const units: [number, string][] = [
    [1, 'J'],
    [1e-3, 'mJ'],
    [1e-6, 'µJ'],
    [1e-9, 'nJ'],
    [1e-12, 'pJ'],
  ];
  for (const [scale, unit] of units) if (Math.abs(j) >= scale) return `${(j / scale).toPrecision(3)} ${unit}`;
  return `${(j / 1e-15).toPrecision(3)} fJ`;
}

/** 50.2 → "50.2 s"; 389 → "6 min 29 s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
