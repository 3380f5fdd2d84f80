/**
 * X25519 (RFC 7748) shaped for the Espruino interpreter, which executes source text: every statement and
 * name look-up costs thousands of machine instructions while native helpers run at C speed
 * (espruino-interpreter-measured.md; figures from `npm run bench`).
 *
 * - A field element is 16 limbs of 16 bits kept in one Int32Array(47) in three layouts at once:
 *     [0..14]  38·x1 … 38·x15   (wrap-around part: 2^256 ≡ 38 mod p)
 *     [15..30] x0 … x15         (natural)
 *     [31..46] x15 … x0         (reversed)
 *   so limb t of a·b is ONE native dot product, E.convolve(aReversed, b, t) = Σ a[15-i]·b[i+t], with no
 *   operand preparation (Int32 elements are read faster than Float64 by the native loop).
 * - The field operations are unrolled straight-line code generated once per call (`new Function`): the
 *   dot product and the carry of a limb are one statement, and each result is written only in the layouts
 *   its consumers read. Unrolled source lives in RAM only while a scalar multiplication runs.
 * - The ladder runs in slices (`defer` between groups of steps) so BLE/Wi-Fi events and the watchdog are
 *   served; the inversion is the 254-square/11-multiply addition chain.
 *
 * Timing: the reference swap and the interpreter are not constant time. Keys are ephemeral (one scalar
 * multiplication each per session), which leaves one trace per key to an observer.
 */

/** Σ a[i]·b[(i+off) % b.length] over i < a.length (E.convolve on the device). */
export type Convolve = (a: ArrayLike<number>, b: ArrayLike<number>, off: number) => number;

/** Plain-JS dot product with E.convolve's semantics, for hosts without it. */
export function convolveJs(a: ArrayLike<number>, b: ArrayLike<number>, off: number): number {
  var s = 0, n = b.length;
  for (var i = 0; i < a.length; i++) s += a[i]! * b[(i + off) % n]!;
  return s;
}

/** Which layouts an operation writes (see the file comment). W needs N: the windows span both. */
var N = 1, R = 2, W = 4;

/** Source of the statement storing `e` as limb k in the layouts of `m`. */
function store(k: number, m: number, e: string): string {
  var s = (m & N ? "o[" + (15 + k) + "]=" : "") + (m & R ? "o[" + (46 - k) + "]=" : "") + e;
  return (m & W && k ? "o[" + (k - 1) + "]=38*(" + s + ")" : s) + ";";
}

/** Carry chain around limb expressions L(k): limb 15 first so its carry lands in limb 0 (×38). */
function chain(m: number, L: (k: number) => string): string {
  var s = "var v,c,h,l;v=" + L(15) + ";c=v/65536|0;h=v-c*65536;l=(v=" + L(0) + "+38*c)-(c=v/65536|0)*65536;";
  for (var k = 1; k < 15; k++) s += store(k, m, "(v=" + L(k) + "+c)-(c=v/65536|0)*65536");
  return s + store(15, m, "(v=h+c)-(c=v/65536|0)*65536") + store(0, m, "l+38*c");
}

type Op = (o: Int32Array, a: Int32Array, b: Int32Array | number) => void;

/**
 * Generates the field operations, each in the layout sets the ladder uses (every variant is RAM while a
 * scalar multiplication runs, so only three): m[mask] = a·b, k[N] = a·small, s[mask] = a + b, d[mask] = a − b.
 */
function ops(cv: Convolve) {
  var src = "var m=[],k=[],s=[],d=[];", masks = [N, R, N | R | W];
  for (var x = 0; x < 3; x++) {
    var m = masks[x]!;
    src += "m[" + m + "]=function(o,a,b){" + chain(m, function (k) { return "C(a,b," + k + ")"; }) + "};";
    for (var j = 0; j < 2; j++) {
      var f = "";
      for (var i = 0; i < 16; i++) f += store(i, m, "a[" + (15 + i) + "]" + (j ? "-" : "+") + "b[" + (15 + i) + "]");
      src += (j ? "d" : "s") + "[" + m + "]=function(o,a,b){" + f + "};";
    }
  }
  src += "k[" + N + "]=function(o,a,b){" + chain(N, function (k) { return "a[" + (15 + k) + "]*b"; }) + "};";
  // eslint-disable-next-line no-new-func -- straight-line code is the point (see file comment)
  return new Function("C", src + "return {m:m,k:k,s:s,d:d};")(cv) as { m: Op[]; k: Op[]; s: Op[]; d: Op[] };
}

/** Element: the layouts buffer and a view of its reversed run (typed arrays take no extra properties). */
interface El { w: Int32Array; r: Int32Array }
function el(): El {
  var w = new Int32Array(47);
  return { w: w, r: new Int32Array(w.buffer, 124, 16) };
}

/** Canonical little-endian encoding of natural limbs (tweetnacl pack25519 after a full floor carry). */
function pack(o: Uint8Array, x: Int32Array) {
  var t = new Float64Array(16), m = new Float64Array(16), i, j, b, c;
  for (i = 0; i < 16; i++) t[i] = x[15 + i]!;
  for (j = 0; j < 3; j++) {
    for (i = 0; i < 16; i++) {
      c = Math.floor(t[i]! / 65536);
      t[i] = t[i]! - c * 65536;
      if (i < 15) t[i + 1] = t[i + 1]! + c;
      else t[0] = t[0]! + 38 * c;
    }
  }
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
  /** Ladder steps per slice (default 16); the inversion runs 8× as many products per slice. */
  slice?: number;
}

/**
 * Computes X25519(k, u) and passes the 32-byte result to `done` (synchronously when no `defer` is given).
 * Clamps k and masks the top bit of u as RFC 7748 §5 requires.
 */
export function x25519(k: Uint8Array, u: Uint8Array, opt: X25519Options, done: (r: Uint8Array) => void): void {
  if (k.length !== 32 || u.length !== 32) throw new Error("x25519: scalar and point must be 32 bytes");
  var F = ops(opt.cv || convolveJs), mul = F.m, add = F.s, sub = F.d, slice = opt.slice || 16;
  var NRW = N | R | W;
  var z = new Uint8Array(k);
  z[31] = (z[31]! & 127) | 64;
  z[0] = z[0]! & 248;
  var x1 = el(), x2 = el(), z2 = el(), x3 = el(), z3 = el(), a = el(), b = el(), c = el(), d = el(), cb = el(),
    da = el(), aa = el(), bb = el(), e = el(), f = el(), s = el(), q = el(), w = el(), zero = el(), T: El, i: number;
  var r: El[] = [], step = 0, sq = 0; // inversion registers (r[0] = z once the ladder ends)
  for (i = 0; i < 10; i++) r.push(el());
  for (i = 0; i < 16; i++) x1.w[15 + i] = u[2 * i]! + (u[2 * i + 1]! << 8);
  x1.w[30] = x1.w[30]! & 0x7fff;
  add[NRW]!(x1.w, x1.w, zero.w);
  add[N]!(x3.w, x1.w, zero.w);
  x2.w[15] = z3.w[15] = 1;
  var bit = 254, swap = 0;
  function run(fn: () => boolean) {
    if (!opt.defer) { while (fn()) { /* all at once */ } return; }
    var dfr = opt.defer;
    var go = function () { if (fn()) dfr(go); };
    go();
  }
  // Each line says which layouts a result needs: state and sums read naturally (N), left operands
  // reversed (R), right operands need the 38· part (W).
  function ladder(): boolean {
    for (var n = 0; n < slice && bit >= 0; n++, bit--) {
      var kt = (z[bit >> 3]! >> (bit & 7)) & 1;
      if (swap ^ kt) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
      swap = kt;
      add[NRW]!(a.w, x2.w, z2.w); sub[NRW]!(b.w, x2.w, z2.w);   // A, B: squared and right operands
      add[R]!(c.w, x3.w, z3.w); sub[R]!(d.w, x3.w, z3.w);       // C, D: left operands only
      mul[N]!(cb.w, c.r, b.w); mul[N]!(da.w, d.r, a.w);
      mul[NRW]!(aa.w, a.r, a.w); mul[NRW]!(bb.w, b.r, b.w);
      sub[NRW]!(e.w, aa.w, bb.w);                                // E = AA - BB
      mul[N]!(x2.w, aa.r, bb.w);                                // x2 = AA·BB
      F.k[N]!(f.w, e.w, 121665); add[R]!(f.w, f.w, aa.w);       // AA + a24·E
      mul[N]!(z2.w, f.r, e.w);                                  // z2 = E·(AA + a24·E)
      add[NRW]!(s.w, da.w, cb.w); mul[N]!(x3.w, s.r, s.w);      // x3 = (DA + CB)^2
      sub[NRW]!(q.w, da.w, cb.w); mul[R]!(w.w, q.r, q.w);
      mul[N]!(z3.w, w.r, x1.w);                                 // z3 = x1·(DA - CB)^2
    }
    if (bit >= 0) return true;
    if (swap) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
    add[NRW]!(r[0]!.w, z2.w, zero.w);
    run(invert);
    return false;
  }
  /** r[j] = s·t via the scratch element s (a product must not write its own operands). */
  function put(j: number, x: El, y: El) {
    mul[NRW]!(s.w, x.r, y.w);
    T = r[j]!; r[j] = s; s = T;
  }
  function invert(): boolean {
    for (var n = 0; n < slice * 8 && step < INVERT.length; n++) {
      var op = INVERT[step]!, j = op[0]!, src = sq ? r[j]! : r[op[1]!]!;
      if (sq < op[2]!) { put(j, src, src); sq++; continue; }
      if (!op[2]) put(j, r[op[1]!]!, r[op[3]!]!);
      else if (op[3]! >= 0) put(j, r[j]!, r[op[3]!]!);
      sq = 0;
      step++;
    }
    if (step < INVERT.length) return true;
    add[R]!(a.w, x2.w, zero.w);
    mul[N]!(b.w, a.r, r[9]!.w);
    var out = new Uint8Array(32);
    pack(out, b.w);
    done(out);
    return false;
  }
  run(ladder);
}
