/**
 * Byte helpers for the protocol core. Binary data is always a Uint8Array; Espruino strings are
 * 8-bit, so a "binary string" maps one char to one byte (SSIDs and passphrases stay bytes).
 * Nothing here touches an Espruino global.
 */

/** Lower-case hex of a byte array. */
export function toHex(b: Uint8Array): string {
  var s = "";
  for (var i = 0; i < b.length; i++) s += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return s;
}

/** Parses hex (whitespace ignored); throws on odd length or a non-hex digit. */
export function fromHex(h: string): Uint8Array {
  h = h.replace(/\s/g, "");
  if (h.length % 2) throw new Error("hex: odd length " + h.length);
  var out = new Uint8Array(h.length / 2);
  for (var i = 0; i < out.length; i++) {
    var v = parseInt(h.substr(i * 2, 2), 16);
    if (isNaN(v)) throw new Error("hex: bad digit at " + i * 2);
    out[i] = v;
  }
  return out;
}

/** One byte per char (chars above 255 are cut to their low byte, as Espruino stores them). */
export function strToBytes(s: string): Uint8Array {
  var out = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
  return out;
}

/** One char per byte. Char by char: Function.apply is limited to 256 args in Espruino (docs/espruino-esp32.md §5). */
export function bytesToStr(b: Uint8Array): string {
  var s = "";
  for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  var n = 0, i;
  for (i = 0; i < parts.length; i++) n += parts[i]!.length;
  var out = new Uint8Array(n), o = 0;
  for (i = 0; i < parts.length; i++) {
    out.set(parts[i]!, o);
    o += parts[i]!.length;
  }
  return out;
}

/** Constant-time equality: the loop never exits early, so timing does not reveal the first mismatch. */
export function equalCt(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  var d = 0;
  for (var i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** True when every byte is zero (constant time). */
export function isZero(a: Uint8Array): boolean {
  var d = 0;
  for (var i = 0; i < a.length; i++) d |= a[i]!;
  return d === 0;
}

/** a XOR b into a new array (lengths must match). */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  var out = new Uint8Array(a.length);
  for (var i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** A copy of b[start, end) that does not share memory with b. */
export function copyOf(b: Uint8Array, start?: number, end?: number): Uint8Array {
  var s = start || 0, e = end === undefined ? b.length : end;
  var out = new Uint8Array(e - s);
  for (var i = s; i < e; i++) out[i - s] = b[i]!;
  return out;
}

/** CRC-32 (IEEE, reflected, as zlib) used to detect torn flash records. */
export function crc32(b: Uint8Array): number {
  var c = -1;
  for (var i = 0; i < b.length; i++) {
    c ^= b[i]!;
    for (var k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ -1) >>> 0;
}
