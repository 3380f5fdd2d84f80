/**
 * X25519 (RFC 7748) shaped for the Espruino interpreter, which executes source text: every statement,
 * name look-up and call costs, while native helpers run at C speed (espruino-interpreter-measured.md).
 *
 * - Field elements are 16 limbs of 16 bits in Float64Array (as tweetnacl), so products stay exact in doubles.
 * - A product is 16 native dot products: `cv(a, W, off)` = Σ a[i]·W[(i+off) % W.length] (Espruino's
 *   E.convolve). W holds b's limbs reversed, followed by 38·b for the wrap-around (2^256 ≡ 38 mod p).
 * - Carries are one statement per limb; the inversion is the 254-square/11-multiply addition chain
 *   (tweetnacl's loop does ~500 multiplications); the ladder swaps references instead of limbs.
 * - The ladder runs in slices so BLE/Wi-Fi events and the watchdog are served between them.
 *
 * Timing: the reference swap and the interpreter itself are not constant time. Keys are ephemeral (one
 * scalar multiplication each per session), which leaves one trace per key to an observer.
 */

/** Σ a[i]·b[(i+off) % b.length] over i < a.length (E.convolve on the device). */
export type Convolve = (a: Float64Array, b: Float64Array, off: number) => number;

/** Plain-JS dot product with E.convolve's semantics, for hosts without it. */
export function convolveJs(a: Float64Array, b: Float64Array, off: number): number {
  var s = 0, n = b.length;
  for (var i = 0; i < a.length; i++) s += a[i]! * b[(i + off) % n]!;
  return s;
}

type Fe = Float64Array;

function fe(): Fe {
  return new Float64Array(16);
}

/** The field arithmetic bound to one convolve implementation and private scratch space. */
function field(cv: Convolve) {
  var W = new Float64Array(31), R = new Float64Array(16);

  /** o = R reduced to limbs below 2^16 (limb 1 may exceed by a small carry). Single pass + wrap. */
  function carry(o: Fe) {
    var c = 0, v = 0;
    for (var i = 0; i < 16; i++) o[i] = (v = R[i]! + c) - (c = Math.floor(v / 65536)) * 65536;
    o[0] = (v = o[0]! + 38 * c) - (c = Math.floor(v / 65536)) * 65536;
    o[1] = o[1]! + c;
  }

  /** o = a·b mod p. o may alias a or b. */
  function mul(o: Fe, a: Fe, b: Fe) {
    var i;
    for (i = 0; i < 16; i++) W[15 - i] = b[i]!;
    for (i = 1; i < 16; i++) W[15 + i] = 38 * b[16 - i]!;
    for (i = 0; i < 16; i++) R[i] = cv(a, W, 15 - i);
    carry(o);
  }

  /** o = a·k mod p for a small constant k. */
  function mulSmall(o: Fe, a: Fe, k: number) {
    for (var i = 0; i < 16; i++) R[i] = a[i]! * k;
    carry(o);
  }

  return { mul: mul, mulSmall: mulSmall };
}

function add(o: Fe, a: Fe, b: Fe) {
  for (var i = 0; i < 16; i++) o[i] = a[i]! + b[i]!;
}

function sub(o: Fe, a: Fe, b: Fe) {
  for (var i = 0; i < 16; i++) o[i] = a[i]! - b[i]!;
}

/** Full carry with floor (handles negative limbs), as tweetnacl's car25519. */
function car(o: Fe) {
  for (var i = 0; i < 16; i++) {
    o[i] = o[i]! + 65536;
    var c = Math.floor(o[i]! / 65536);
    if (i < 15) o[i + 1] = o[i + 1]! + c - 1;
    else o[0] = o[0]! + 38 * (c - 1);
    o[i] = o[i]! - c * 65536;
  }
}

/** Canonical little-endian encoding (tweetnacl pack25519). */
function pack(o: Uint8Array, n: Fe) {
  var m = fe(), t = new Float64Array(n), i, j, b;
  car(t); car(t); car(t);
  for (j = 0; j < 2; j++) {
    m[0] = t[0]! - 0xffed;
    for (i = 1; i < 15; i++) {
      m[i] = t[i]! - 0xffff - ((m[i - 1]! >> 16) & 1);
      m[i - 1] = m[i - 1]! & 0xffff;
    }
    m[15] = t[15]! - 0x7fff - ((m[14]! >> 16) & 1);
    b = (m[15]! >> 16) & 1;
    m[14] = m[14]! & 0xffff;
    if (!b) t.set(m);
  }
  for (i = 0; i < 16; i++) {
    o[2 * i] = t[i]! & 0xff;
    o[2 * i + 1] = t[i]! >> 8;
  }
}

function unpack(o: Fe, n: Uint8Array) {
  for (var i = 0; i < 16; i++) o[i] = n[2 * i]! + (n[2 * i + 1]! << 8);
  o[15] = o[15]! & 0x7fff;
}

/**
 * z^(p-2) as a register program (ref10 fe_invert addition chain: 254 squarings, 11 multiplications).
 * Each op: [dst, src, squarings, multiplier register or -1] meaning dst = src^(2^squarings) · r[multiplier].
 * Registers: 0 z, 1 z^2, 2 z^9, 3 z^11, 4 z^(2^5-1), 5 z^(2^10-1), 6 z^(2^20-1), 7 z^(2^50-1), 8 z^(2^100-1), 9 t.
 */
var INVERT = [
  [1, 0, 1, -1], [2, 1, 2, 0], [3, 2, 0, 1], [4, 3, 1, 2], [5, 4, 5, 4], [6, 5, 10, 5],
  [9, 6, 20, 6], [7, 9, 10, 5], [8, 7, 50, 7], [9, 8, 100, 8], [9, 9, 50, 7], [9, 9, 5, 3],
];

export interface X25519Options {
  /** Native dot product (E.convolve); defaults to a plain-JS loop. */
  cv?: Convolve;
  /** Schedules the next slice (setTimeout(fn, 0) on the device); without it the work runs in one go. */
  defer?: (fn: () => void) => void;
  /** Ladder steps per slice (default 16). */
  slice?: number;
}

/**
 * Computes X25519(k, u) and passes the 32-byte result to `done` (synchronously when no `defer` is given).
 * Clamps k and masks the top bit of u as RFC 7748 §5 requires.
 */
export function x25519(k: Uint8Array, u: Uint8Array, opt: X25519Options, done: (r: Uint8Array) => void): void {
  if (k.length !== 32 || u.length !== 32) throw new Error("x25519: scalar and point must be 32 bytes");
  var F = field(opt.cv || convolveJs), mul = F.mul, slice = opt.slice || 16;
  var z = new Uint8Array(k);
  z[31] = (z[31]! & 127) | 64;
  z[0] = z[0]! & 248;
  var x1 = fe(), x2 = fe(), z2 = fe(), x3 = fe(), z3 = fe(), A = fe(), B = fe(), C = fe(), D = fe(), E = fe(), T: Fe;
  unpack(x1, u);
  x2[0] = 1;
  z3[0] = 1;
  x3.set(x1);
  var bit = 254, swap = 0;
  function run(fn: () => boolean) {
    if (!opt.defer) { while (fn()) { /* all at once */ } return; }
    var d = opt.defer;
    var go = function () { if (fn()) d(go); };
    go();
  }
  function ladder(): boolean {
    for (var s = 0; s < slice && bit >= 0; s++, bit--) {
      var kt = (z[bit >> 3]! >> (bit & 7)) & 1;
      if (swap ^ kt) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
      swap = kt;
      add(A, x2, z2); sub(B, x2, z2); add(C, x3, z3); sub(D, x3, z3);
      mul(C, C, B); mul(D, D, A);          // C = CB, D = DA
      mul(A, A, A); mul(B, B, B);          // AA, BB
      sub(E, A, B);                        // E = AA - BB
      mul(x2, A, B);                       // x2 = AA·BB
      F.mulSmall(z2, E, 121665); add(z2, z2, A); mul(z2, z2, E);
      add(x3, D, C); mul(x3, x3, x3);      // (DA + CB)^2
      sub(z3, D, C); mul(z3, z3, z3); mul(z3, z3, x1);
    }
    if (bit >= 0) return true;
    if (swap) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
    r[0] = z2;
    run(invert);
    return false;
  }
  var r = [z2], step = 0, sq = 0;  // r[0] is set to the final z2 when the ladder ends
  for (var i = 1; i < 10; i++) r.push(fe());
  function invert(): boolean {
    for (var n = 0; n < slice * 8 && step < INVERT.length; n++) {
      var op = INVERT[step]!, dst = r[op[0]!]!;
      if (sq < op[2]!) {
        var src = sq ? dst : r[op[1]!]!;
        mul(dst, src, src);
        sq++;
      } else {
        if (!op[2]) mul(dst, r[op[1]!]!, r[op[3]!]!);
        else if (op[3]! >= 0) mul(dst, dst, r[op[3]!]!);
        sq = 0;
        step++;
      }
    }
    if (step < INVERT.length) return true;
    mul(x2, x2, r[9]!);
    var out = new Uint8Array(32);
    pack(out, x2);
    done(out);
    return false;
  }
  run(ladder);
}
