// Numbers, times and durations as people read them.

/** 124_439_808 -> "124.4 million". */
export function formatCount(n: number): string {
  const scales: Array<[number, string]> = [
    [1e12, 'trillion'],
    [1e9, 'billion'],
    [1e6, 'million'],
  ];
  for (const [scale, word] of scales) {
    if (n >= scale) return `${(n / scale).toFixed(1).replace(/\.0$/, '')} ${word}`;
  }
  return n.toLocaleString('en');
}

/** Seconds left -> "about 3 min left". */
export function formatEta(seconds: number): string {
  if (seconds < 45) return 'less than a minute left';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${minutes} min left`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `about ${hours} h ${minutes % 60} min left`;
  return `about ${Math.round(hours / 24)} days left`;
}

/** "12 Mar 2026, 14:05" in the user's locale. */
export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Milliseconds -> "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return 'less than a second';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

/** A metric value with a sensible number of digits. */
export function formatMetric(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en');
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return value.toExponential(3);
  if (abs >= 1000) return Math.round(value).toLocaleString('en');
  const text = value.toPrecision(4);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
