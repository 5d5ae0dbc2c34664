/** A short, printable account of `value` for a message; never throws. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  // JSON.stringify would show NaN and Infinity as "null", hiding the bad value.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // Too deep for JSON.stringify: String() of nested arrays recurses just as deep.
    try {
      return String(value);
    } catch {
      return 'a value nested too deep to print';
    }
  }
}
