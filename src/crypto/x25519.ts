/**
 * X25519 (RFC 7748) shaped for the Espruino interpreter, which executes source text: every statement and
 * name look-up costs thousands of machine instructions while native helpers run at C speed
 * (docs/interpreter-measurements.md §6; figures from `npm run bench`).
 *
 * - A field element is 12 limbs in radix 2^21.25 held as *scaled doubles* (Bernstein's floating-point
 *   Curve25519 layout): limb t is an integer multiple of 2^POS[t], POS[t] = ceil(255·t/12), so a product of
 *   two limbs already has the right weight and the wrap-around is ×19·2^-255 (2^255 ≡ 19 mod p). Twelve
 *   limbs is the fewest for which every dot product stays exact in a double: after a carry |limb| ≤ half its
 *   radix, and a product limb is at most 2^48.96 times its weight (2^50.96 for 4·a·b, the worst used here).
 * - One Float64Array(35) holds an element in three layouts at once:
 *     [0..10]  Z·x1 … Z·x11   (wrap-around part, Z = 19·2^-255)
 *     [11..22] x0 … x11       (natural)
 *     [23..34] x11 … x0       (reversed)
 *   so limb t of a·b is ONE native dot product, E.convolve(aReversed, b, t) = Σ a[11-i]·b[i+t], with no
 *   operand preparation. Each result is written only in the layouts its consumers read (N, R, W below):
 *   the natural limbs by the carry chain, the wrap part by one native set of an array literal, and the
 *   reversed run, when the natural one exists too, by one native gather (E.mapInPlace with an index table).
 * - A carry rounds to the limb's grid with the add-and-subtract-a-constant trick (v + K − K, K a one-digit
 *   decimal in [2^52, 2^53)·2^POS[t+1]: rounding()): two interpreter operations, and the limbs come out
 *   balanced (signed, |limb| ≤ half radix).
 * - The ladder step has no field additions: they are folded into the dot products.
 *     U = x2·x3 − z2·z3, V = x2·z3 − z2·x3       x3' = U²,  z3' = x1·V²       (the common factor 4 cancels)
 *     S = x2² − z2²,  P = x2·z2,  Q = 4·(x2² + z2² + A·P)   x2' = S²,  z2' = P·Q  (A = 486662)
 *   10 carried results and 12 dot products per limb position, against 10 products + 8 additions before.
 * - The ladder runs in slices (`defer` between groups of steps) so BLE/Wi-Fi events and the watchdog are
 *   served; the inversion is the 254-square/11-multiply addition chain.
 *
 * Cost in Espruino 2v29 (callgrind, `npm run bench`): a product writing one layout is 0.68 M instructions:
 * 12 E.convolve calls at ≈ 23 k (≈ 14 k for the call, ≈ 0.76 k per element pair, as the iterator reads a
 * Float64Array byte by byte: src/jsvariterator.c) and 12 carried, stored limbs at ≈ 25 k. All three layouts:
 * 0.82 M; a difference of products: 1.12 M. A ladder step is ≈ 8.7 M, X25519 2.64 G (7.8× below tweetnacl).
 * 10× would need ≤ 2.07 G, i.e. ≤ 7.0 M per step once the inversion (0.22 G) and the code generation
 * (0.05 G) are paid; four squarings (0.82 M), five products (0.68 M) and the A-term reduction (≈ 0.3 M)
 * already make 7.0 M with the ladder's additions, calls and loop free, and folding the additions costs 12
 * more dot products or stored limbs each (sum/difference states measured ≈ 9.1 M per step).
 *
 * Timing: the reference swap and the interpreter are not constant time. Keys are ephemeral (one scalar
 * multiplication each per session), which leaves one trace per key to an observer.
 */

/** Σ a[i]·b[(i+off) % b.length] over i < a.length (E.convolve on the device). */
export type Convolve = (a: ArrayLike<number>, b: ArrayLike<number>, off: number) => number;

/** to[i] = map[from[i]] while both have elements: E.mapInPlace(from, to, map) with typed arrays (jswrap_espruino.c). */
export type Gather = (from: Uint8Array, to: Float64Array, map: Float64Array) => void;

/** Plain-JS gather with E.mapInPlace's semantics for a typed-array map, for hosts without it. */
export function gatherJs(from: Uint8Array, to: Float64Array, map: Float64Array): void {
  for (var i = 0; i < from.length && i < to.length; i++) to[i] = map[from[i]!]!;
}

/** Plain-JS dot product with E.convolve's semantics, for hosts without it. */
export function convolveJs(a: ArrayLike<number>, b: ArrayLike<number>, off: number): number {
  var s = 0, n = b.length;
  for (var i = 0; i < a.length; i++) s += a[i]! * b[(i + off) % n]!;
  return s;
}

/**
 * Per-multiplication tables, built by tables() and dropped when the result is out so they take no RAM
 * between sessions: POS[t] = ceil(255·t/12) is limb t's bit position (radix 2^21.25) and WT[t] = 2^POS[t]
 * its weight, built by exact doubling because Espruino's Math.pow(x, y) is exp(log(x)·y) for y ≥ 10
 * (src/jswrap_math.c jswrap_math_pow), inexact even for powers of two; ZW = 19·2^-255 the weight of a limb
 * that wraps past 2^255. Typed arrays: a plain array's element costs a JsVar or two each, a Float64Array's
 * 13 elements fit 9 (npm run bench, "tables"). KL[t], the rounding constant for limb t as text (from
 * rounding()), exists only while generatedOps writes its code.
 */
var POS: Uint16Array, WT: Float64Array, KL: string[], ZW: number, running = 0;
/**
 * The rounding constants K0..K11 as they appear in the generated code: Kt is the shortest decimal in
 * [2^52, 2^53)·2^POS[t+1], so v + Kt − Kt rounds v to that grid while |v| stays far below 2^51 of it (a
 * carried sum is < 2^31 of the grid). One digit lexes and parses faster: Espruino keeps float literals as
 * text even in pretokenised code (src/jslex.c _jslNewTokenisedStringFromLexer), and working them out on
 * the device (no toPrecision) cost 16 M instructions per multiplication. A function keeps the text in flash.
 */
export function rounding(): string { return "2e22 4e28 9e34 2e41 8e47 2e54 4e60 7e66 3e73 6e79 2e86 3e92"; }
/** The rounding constants as numbers (in a function of its own: the split text is garbage once it returns). */
function roundingK(): Float64Array {
  var kl = rounding().split(" "), K = new Float64Array(12);
  for (var t = 0; t < 12; t++) K[t] = +kl[t]!;
  return K;
}
function tables() {
  if (running++) return; // multiplications may overlap (a new key pair while an old session's one ends)
  POS = new Uint16Array(13); WT = new Float64Array(13); WT[0] = 1;
  for (var p = 1; p <= 12; p++) {
    POS[p] = Math.ceil(255 * p / 12);
    WT[p] = WT[p - 1]! * (1 << (POS[p]! - POS[p - 1]!));
  }
  ZW = 19 / WT[12]!;
}

/** Which layouts an operation writes (see the file comment). W needs N: a window spans both. */
var N = 1, R = 2, W = 4, NW = 5, NRW = 7;

/**
 * Expression storing `e` as limb k of array `o` in the layouts of `m`: natural and (alone) reversed inline;
 * the wrap part inline too, or, with `lit`, as the value Z·limb the caller puts into an array literal.
 */
function store(o: string, k: number, m: number, e: string, lit?: boolean): string {
  var s = (m & N ? o + "[" + (11 + k) + "]=" : "") + (m === R ? o + "[" + (34 - k) + "]=" : "") + e;
  return m & W && k ? (lit ? "Z*(" + s + ")" : o + "[" + (k - 1) + "]=Z*(" + s + ")") : s;
}

/** One result of a generated operation: output array name, its reversed view's name, layouts, limb k's sum. */
interface Out { o: string; p?: string; m: number; L: (k: number) => string }

/**
 * Carry chains for one or more results computed side by side (they may share the dot products listed by
 * `pre`). Limb 11 goes first so its carry lands in limb 0 (×Z); limbs 11 and 0 take the late carries last.
 * Kt rounds limb t to its grid: c = v + Kt − Kt is the nearest multiple of 2^POS[t+1].
 * Writes: the first result's wrap part Z·x1 … Z·x11 is one `o.set([...])` of an array literal whose
 * elements run the chain for limbs 1..11 in order (a native set costs less than 11 typed-array stores);
 * a reversed run next to a natural one is gathered at the end (M = E.mapInPlace, I = [22, 21, …, 11]).
 */
function chains(outs: Out[], pre: (k: number) => string[]): string {
  var s = "var " + (pre(0).length ? "X,Y," : ""), k: number, j: number, x: Out, q: string, v: string, c: string, h: string, l: string,
    lit = !!(outs[0]!.m & W), e: string[], els: string[] = [], tail = "", last: string, w: boolean, st: string;
  for (j = 0; j < outs.length; j++) { q = outs.length > 1 ? "" + j : ""; s += (j ? "," : "") + "v" + q + ",c" + q + ",h" + q + ",l" + q; }
  s += ";";
  for (k = -1; k < 12; k++) { // -1: the first pass over limb 11; 11: the late carries into limbs 11 and 0
    e = k < 0 ? pre(11) : k < 11 ? pre(k) : [];
    last = "";
    for (j = 0; j < outs.length; j++) {
      x = outs[j]!; q = outs.length > 1 ? "" + j : "";
      v = "v" + q; c = "c" + q; h = "h" + q; l = "l" + q;
      w = lit && !j; // this result's wrap part goes into the literal
      if (k < 0) e.push(v + "=" + x.L(11), c + "=" + v + "+" + KL[11] + "-" + KL[11], h + "=" + v + "-" + c);
      else if (k === 0) e.push(l + "=(" + v + "=" + x.L(0) + "+Z*" + c + ")-(" + c + "=" + v + "+" + KL[0] + "-" + KL[0] + ")");
      else if (k < 11) {
        st = store(x.o, k, x.m, "(" + v + "=" + x.L(k) + "+" + c + ")-(" + c + "=" + v + "+" + KL[k] + "-" + KL[k] + ")", w);
        if (w) last = st; else e.push(st);
      } else {
        st = store(x.o, 11, x.m, "(" + v + "=" + h + "+" + c + ")-(" + c + "=" + v + "+" + KL[11] + "-" + KL[11] + ")", w);
        if (w) { last = st; tail = store(x.o, 0, x.m, l + "+Z*" + c) + ";"; } else e.push(st, store(x.o, 0, x.m, l + "+Z*" + c));
      }
    }
    if (last) els.push(e.length ? "(" + e.concat([last]).join(",") + ")" : last); // comma expression: in order
    else if (e.length) s += e.join(";") + ";";
  }
  if (lit) s += outs[0]!.o + ".set([" + els.join(",") + "]);" + tail;
  for (j = 0; j < outs.length; j++) if (outs[j]!.m === NRW) s += "M(I," + outs[j]!.p + "," + outs[j]!.o + ");";
  return s;
}

/** Operations take the output's layouts buffer and its reversed view, then the operands. */
type Op = (o: Float64Array, p: Float64Array, a: Float64Array, b: Float64Array, e?: Float64Array, f?: Float64Array) => void;
type Sq = (o: Float64Array, p: Float64Array, q: Float64Array, a: Float64Array, b: Float64Array, e: Float64Array, f: Float64Array, r: Float64Array) => void;
/** The four field operations a scalar multiplication uses (see generatedOps). */
export interface FieldOps { r: Op; m: Op; d: Op; s: Sq }
/** Makes the field operations for one scalar multiplication, given the native dot product and gather. */
export type FieldOpsMaker = (cv: Convolve, gather: Gather) => FieldOps;

/**
 * Generates the field operations (straight-line code, RAM only while a scalar multiplication runs):
 * r(o,p,a,b) = a·b in layout R, m(o,p,a,b) = a·b in NRW; d(o,p,a,b,e,f) = a·b − e·f; s(o,p,q,a,b,e,f,r) giving
 * o = a·b − e·f and q = 4·(a·b + e·f + A·r) from the same two dot products per limb (4·(X+Y) ≤ 2^51.96 of the
 * limb's weight: exact). Each function body starts with "ram", which makes Espruino pretokenise it
 * (src/jsparse.c jspeFunctionDefinitionInternal → jslNewTokenisedStringFromLexer): integers and keywords
 * become single tokens, so every later run of the body lexes less (and it takes less RAM than the text).
 */
export function generatedOps(cv: Convolve, gather: Gather): FieldOps {
  var none = function () { return [] as string[]; }, names = ["C", "Z", "B", "M", "I"],
    vals: unknown[] = [cv, ZW, 4 * 486662, gather, new Uint8Array([22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11])];
  var fn = function (args: string, body: string) { return "function(" + args + "){\"ram\";" + body + "}"; };
  var mul = function (m: number) {
    return fn("o,p,a,b", chains([{ o: "o", p: "p", m: m, L: function (k) { return "C(a,b," + k + ")"; } }], none));
  };
  KL = rounding().split(" ");
  var src = "return{r:" + mul(R) + ",m:" + mul(NRW) +
    ",d:" + fn("o,p,a,b,e,f", chains([{ o: "o", p: "p", m: NRW, L: function (k) { return "C(a,b," + k + ")-C(e,f," + k + ")"; } }], none)) +
    ",s:" + fn("o,p,q,a,b,e,f,r", chains([
      { o: "o", p: "p", m: NRW, L: function () { return "X-Y"; } },
      { o: "q", m: NW, L: function (k) { return "4*(X+Y)+B*r[" + (34 - k) + "]"; } },
    ], function (k) { return ["X=C(a,b," + k + ")", "Y=C(e,f," + k + ")"]; })) + "};";
  KL = [];
  // eslint-disable-next-line no-new-func -- straight-line code is the point (see file comment)
  var make = Function.apply(null, names.concat([src])) as (...v: unknown[]) => FieldOps;
  return make.apply(null, vals);
}

/**
 * The same operations, exact to the bit, as loops in the bundle (flash on the board) instead of generated
 * code in RAM: per result, the 12 dot products go into a scratch array first, then one carry loop (the
 * same carries, in the same order, as chains()) writes the limbs. A product may therefore write one of its
 * own operands. Fewer JsVars (no generated functions, no source text while they are made), more interpreter
 * work per product (loop control, array look-ups): `npm run bench` measures both.
 */
export function loopOps(cv: Convolve, gather: Gather): FieldOps {
  var K = roundingK(), X = new Float64Array(12), Y = new Float64Array(12),
    I = new Uint8Array([22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11]), Z = ZW, B = 4 * 486662;
  /** Stores limb 11 (after the late carry) and limb 0, and gathers the reversed run for NRW. */
  var ends = function (o: Float64Array, p: Float64Array, m: number, h: number, c: number, l: number) {
    var v = h + c, x: number;
    c = v + K[11]! - K[11]!;
    x = v - c;
    if (m === R) o[23] = x;
    else o[10] = Z * (o[22] = x);
    o[m === R ? 34 : 11] = l + Z * c;
    if (m === NRW) gather(I, p, o);
  };
  /** Carries the limb sums S (limb 11 first, its carry wrapping into limb 0) and stores them in o's layouts m. */
  var carry = function (o: Float64Array, p: Float64Array, m: number, S: Float64Array) {
    var v = S[11]!, c = v + K[11]! - K[11]!, h = v - c, l: number, i: number;
    v = S[0]! + Z * c;
    c = v + K[0]! - K[0]!;
    l = v - c;
    for (i = 1; i < 11; i++) {
      v = S[i]! + c;
      c = v + K[i]! - K[i]!;
      o[i - 1] = Z * (o[11 + i] = v - c);
    }
    ends(o, p, m, h, c, l);
  };
  // A product's dot products feed its carry chain directly (no scratch array): the loops most products run.
  var mul = function (m: number): Op {
    return function (o, p, a, b) {
      var v = cv(a, b, 11), c = v + K[11]! - K[11]!, h = v - c, l: number, i: number;
      v = cv(a, b, 0) + Z * c;
      c = v + K[0]! - K[0]!;
      l = v - c;
      if (m === R) {
        for (i = 1; i < 11; i++) {
          v = cv(a, b, i) + c;
          c = v + K[i]! - K[i]!;
          o[34 - i] = v - c;
        }
      } else {
        for (i = 1; i < 11; i++) {
          v = cv(a, b, i) + c;
          c = v + K[i]! - K[i]!;
          o[i - 1] = Z * (o[11 + i] = v - c);
        }
      }
      ends(o, p, m, h, c, l);
    };
  };
  return {
    r: mul(R), m: mul(NRW),
    d: function (o, p, a, b, e, f) {
      for (var i = 0; i < 12; i++) X[i] = cv(a, b, i) - cv(e!, f!, i);
      carry(o, p, NRW, X);
    },
    s: function (o, p, q, a, b, e, f, r) {
      for (var i = 0, x, y; i < 12; i++) {
        x = cv(a, b, i);
        y = cv(e, f, i);
        X[i] = x - y;
        Y[i] = 4 * (x + y) + B * r[34 - i]!;
      }
      carry(o, p, NRW, X);
      carry(q, q, NW, Y);
    },
  };
}

/** Element: the layouts buffer and a view of its reversed run (typed arrays take no extra properties). */
interface El { w: Float64Array; r: Float64Array }

/**
 * z^(p-2) as a register program (ref10 fe_invert addition chain: 254 squarings, 11 multiplications).
 * Op i is characters 4i..4i+3: dst, src, squarings, multiplier register, each as charCode − 48 ("/" = −1:
 * none), meaning dst = src^(2^squarings) · r[multiplier]. A string stays in flash with the code, where an
 * array of arrays would keep ≈ 75 JsVars of RAM (a module-level string would keep 6: a function returns it
 * from the code). (2^100 is two ops of 50 squarings to stay in ASCII.) Four registers suffice, each reused
 * once its value is dead: 0 z, then z^(2^5-1), z^(2^40-1), z^(2^100-1); 1 z^2, then z^(2^10-1) and the
 * result; 2 z^9, then z^(2^20-1), z^(2^50-1); 3 z^11.
 */
function invertProgram() { return "101/212032010312105021:102D220:102b210b/11b011b21153"; }

export interface X25519Options {
  /** The field operations: generatedOps (faster, its code in RAM while it runs) or loopOps (fewer JsVars).
   * No default, so that a bundle holds only the one its build chose. */
  ops: FieldOpsMaker;
  /** Native dot product (E.convolve); convolveJs on hosts without it. Required, so that the firmware's bundle
   * does not carry the JS stand-ins it never calls (two resident functions, ≈ 10 JsVars). */
  cv: Convolve;
  /** Native gather (E.mapInPlace); gatherJs on hosts without it. */
  gather: Gather;
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
  tables();
  // The helpers live inside x25519, so they take RAM only while an X25519 runs (a resident function ≈ 5 JsVars).
  /** A new element (El). */
  function el(): El {
    var w = new Float64Array(35);
    return { w: w, r: new Float64Array(w.buffer, 184, 12) };
  }

  /** Writes limb values (scaled doubles; missing ones are 0) into all three layouts. */
  function set(x: El, limbs: ArrayLike<number>) {
    for (var t = 0; t < 12; t++) {
      var v = limbs[t] || 0;
      x.w[11 + t] = x.w[34 - t] = v;
      if (t) x.w[t - 1] = ZW * v;
    }
  }

  /** u (little-endian, top bit masked as RFC 7748 §5 requires) as 12 scaled limbs. */
  function unpack(u: Uint8Array): Float64Array {
    var m = new Float64Array(12), t = 0, w = 1; // w = 2^p, kept exact by doubling
    for (var i = 0; i < 32; i++, w *= 256) {
      var b = i === 31 ? u[i]! & 127 : u[i]!, p = 8 * i;
      while (POS[t + 1]! <= p) t++;
      var k = POS[t + 1]! - p; // bits of limb t still free at bit p
      if (k >= 8) m[t] = m[t]! + b * w;
      else {
        m[t] = m[t]! + (b & ((1 << k) - 1)) * w;
        m[t + 1] = m[t + 1]! + (b >> k) * WT[t + 1]!;
      }
    }
    return m;
  }

  /** Canonical little-endian encoding of a natural-layout element (limbs may be negative). */
  function pack(o: Uint8Array, x: Float64Array) {
    var t = new Float64Array(16), m = new Float64Array(16), i, j, b, c, e, more = true;
    for (i = 0; i < 12; i++) {
      e = POS[i]!;
      t[e >> 4] = t[e >> 4]! + x[11 + i]! / WT[i]! * (1 << (e & 15)); // the limb's integer × 2^(e mod 16)
    }
    // Floor carries in radix 2^16 with 2^256 ≡ 38; a negative total gains 2p per wrapped borrow until ≥ 0.
    while (more) {
      more = false;
      for (i = 0; i < 16; i++) {
        c = Math.floor(t[i]! / 65536);
        t[i] = t[i]! - c * 65536;
        if (i < 15) t[i + 1] = t[i + 1]! + c;
        else if (c) { t[0] = t[0]! + 38 * c; more = true; }
      }
    }
    for (j = 0; j < 2; j++) { // now 0 ≤ value < 2^256 < 3p: subtract p while it fits (tweetnacl pack25519)
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
  // Called through a parameter, which the minifier cannot inline: inlined into this function, generatedOps'
  // source text became a variable of this scope, kept alive by the ladder's closures (≈ 340 JsVars).
  var F = opt.ops(opt.cv, opt.gather), slice = opt.slice || 16;
  var z = new Uint8Array(k);
  z[31] = (z[31]! & 127) | 64;
  z[0] = z[0]! & 248;
  // State (x2:z2), (x3:z3) and five temporaries (each element ≈ 28 JsVars). A step writes its new state over
  // the old once nothing reads it any more, so no product writes one of its own operands (generatedOps
  // cannot). After the ladder, z2, x1, x3 and z3 are the inversion's registers and P its scratch.
  var x1 = el(), x2 = el(), z2 = el(), x3 = el(), z3 = el(), P = el(), S = el(), Q = el(), U = el(), V = el(), T: El;
  set(x1, unpack(u));
  set(x2, [1]);
  x3.w.set(x1.w);
  set(z3, [1]);
  var bit = 254, swap = 0;
  function run(fn: () => boolean) {
    if (!opt.defer) { while (fn()) { /* all at once */ } return; }
    var dfr = opt.defer;
    var go = function () { if (fn()) dfr(go); };
    go();
  }
  // Layouts per result: left operands reversed (R), right operands natural + wrap (N, W), all three for
  // squares. The doubled pair is squared and a right operand of U and V; the other pair is only a left
  // operand there, so it needs R alone (F.r) and only the pair the next step doubles gets all three (F.m).
  function ladder(): boolean {
    for (var n = 0; n < slice && bit >= 0; n++, bit--) {
      var kt = (z[bit >> 3]! >> (bit & 7)) & 1, b1 = bit - 1;
      if (swap ^ kt) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
      swap = kt;
      // The next step doubles (x3:z3) when its bit differs (it swaps); after the last step (x2:z2) is the
      // result, which the inversion and the final product use with all three layouts.
      var nsw = b1 >= 0 && kt ^ ((z[b1 >> 3]! >> (b1 & 7)) & 1), m2 = nsw ? F.r : F.m, m3 = nsw ? F.m : F.r;
      F.r(P.w, P.r, x2.r, z2.w);                                 // P = x2·z2
      F.s(S.w, S.r, Q.w, x2.r, x2.w, z2.r, z2.w, P.w);           // S = x2² − z2², Q = 4·(x2² + z2² + A·P)
      if (bit > 2) { // the clamped scalar's bits 2..0 are 0: from there on (x3:z3) never reaches the result
        F.d(U.w, U.r, x3.r, x2.w, z3.r, z2.w);                   // U = x2·x3 − z2·z3
        F.d(V.w, V.r, z3.r, x2.w, x3.r, z2.w);                   // V = x2·z3 − z2·x3
        m3(x3.w, x3.r, U.r, U.w);                                // x3' = U²
        F.r(U.w, U.r, V.r, V.w);                                 // U = V² (U is dead)
        m3(z3.w, z3.r, U.r, x1.w);                               // z3' = x1·V²
      }
      m2(x2.w, x2.r, S.r, S.w);                                  // x2' = S²
      m2(z2.w, z2.r, P.r, Q.w);                                  // z2' = P·Q
    }
    if (bit >= 0) return true;
    if (swap) { T = x2; x2 = x3; x3 = T; T = z2; z2 = z3; z3 = T; }
    r = [z2, x1, x3, z3];
    s = P;
    prog = invertProgram();
    run(invert);
    return false;
  }
  // Inversion registers (r[0] = z once the ladder ends), scratch s, and the current op: step, squarings done,
  // its destination, squaring count and multiplier register.
  var r: El[] = [], s: El, step = 0, sq = 0, j = 0, sqs = 0, mi = 0, prog = "";
  /** Field f of inversion op i (see invertProgram). */
  function inv(i: number, f: number): number {
    return prog.charCodeAt(4 * i + f) - 48;
  }
  /** r[j] = x·y via the scratch element s (a product must not write its own operands). */
  function put(j: number, x: El, y: El) {
    F.m(s.w, s.r, x.r, y.w);
    T = r[j]!; r[j] = s; s = T;
  }
  function invert(): boolean {
    for (var n = 0; n < slice * 8 && step * 4 < prog.length; n++) {
      if (!sq) { j = inv(step, 0); sqs = inv(step, 2); mi = inv(step, 3); }
      var src = sq ? r[j]! : r[inv(step, 1)]!;
      if (sq < sqs) { put(j, src, src); sq++; continue; }
      if (!sqs) put(j, src, r[mi]!);
      else if (mi >= 0) put(j, r[j]!, r[mi]!);
      sq = 0;
      step++;
    }
    if (step * 4 < prog.length) return true;
    F.m(s.w, s.r, x2.r, r[1]!.w);
    var out = new Uint8Array(32);
    pack(out, s.w);
    if (!--running) POS = WT = null as any; // the last one out frees the tables
    done(out);
    return false;
  }
  run(ladder);
}
