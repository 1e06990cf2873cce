// Decimal number parsing straight from bytes: no string is allocated for the common case.
// Grammar (what StatsD clients send; stricter than Go's ParseFloat, which also takes hex, "Inf" and "NaN"):
//   [+-]? ( digits [ '.' digits? ] | '.' digits ) ( [eE] [+-]? digits )?
// Exactness: a mantissa of at most 15 significant digits is an exact double, and so is 10^k for k <= 22,
// so one multiplication or division rounds once and gives the same double as Number(text). Anything
// longer falls back to Number() on the (already validated) text.

const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

/**
 * Returns the value of buf[start, end) times 10^shift, or NaN when it is not a finite decimal number.
 * (Timers use shift -3: "47.2" ms becomes 0.0472 s with one rounding, where 47.2 / 1000 gives 0.047200000000000006.)
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number, shift = 0): number {
  let i = start;
  if (i >= end) return Number.NaN;
  let c = buf[i]!;
  let neg = false;
  if (c === 43 /* + */ || c === 45 /* - */) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let digits = 0; // significant digits folded into mant
  let scale = 0; // power of ten to apply to mant
  let sawDigit = false;
  let exact = true;
  while (i < end) {
    c = buf[i]!;
    if (c < 48 || c > 57) break;
    sawDigit = true;
    if (digits < 15) {
      mant = mant * 10 + (c - 48);
      if (mant !== 0) digits++;
    } else {
      scale++;
      exact = false;
    }
    i++;
  }
  if (i < end && buf[i] === 46 /* . */) {
    i++;
    while (i < end) {
      c = buf[i]!;
      if (c < 48 || c > 57) break;
      sawDigit = true;
      if (digits < 15) {
        mant = mant * 10 + (c - 48);
        if (mant !== 0) digits++;
        scale--;
      } else exact = false;
      i++;
    }
  }
  if (!sawDigit) return Number.NaN;
  if (i < end && (buf[i] === 101 || buf[i] === 69) /* e E */) {
    i++;
    let eneg = false;
    if (i < end && (buf[i] === 43 || buf[i] === 45)) {
      eneg = buf[i] === 45;
      i++;
    }
    let e = 0;
    let eDigits = 0;
    while (i < end) {
      c = buf[i]!;
      if (c < 48 || c > 57) break;
      if (e < 100000) e = e * 10 + (c - 48);
      eDigits++;
      i++;
    }
    if (eDigits === 0) return Number.NaN;
    scale += eneg ? -e : e;
  }
  if (i !== end) return Number.NaN;
  scale += shift;
  if (!exact || scale > 22 || scale < -22) {
    // Rare: long mantissa or large exponent. The text is validated, so Number() sees only decimals.
    const text = Number(latin1(buf, start, end));
    const slow = shift < 0 ? text / 10 ** -shift : text * 10 ** shift;
    return Number.isFinite(slow) ? slow : Number.NaN;
  }
  let v: number;
  if (scale === 0) v = mant;
  else if (scale > 0) v = mant * POW10[scale]!;
  else v = mant / POW10[-scale]!;
  return neg ? -v : v;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}
