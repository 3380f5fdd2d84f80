/**
 * Modular arithmetic for big moduli (Security 2's 3072-bit SRP6a group) on the classic ESP32's RSA block:
 * MODEXP and the two-step modular product run on the block, additions and comparisons in JS.
 * The block itself (taking it, ownership checks, bounded waits, giving it back) is esp32-rsa.ts; registers and
 * their sources esp32-rsa-regs.ts and docs/esp32-rsa-block.md (§9 covers this module).
 *
 * What the block is given, as ESP-IDF's mbedtls port gives it (line numbers: v3.3.6
 * components/mbedtls/port/esp_bignum.c; v3.3.x and v4.0 are the last releases that start the ESP32's MODEXP: from v4.1,
 * commit 5ed8388f6b5, ESP-IDF exponentiates with Montgomery products, and v4.4.8 never starts a MODEXP on the ESP32:
 * ESP_MPI_USE_MONT_EXP, include/bignum_impl.h:12-14, esp_bignum.c:324-327):
 * - every operand as `words` 32-bit words, least significant first, zero-extended; MULT_MODE = MODEXP_MODE =
 *   words/16 − 1 (512-bit blocks − 1: 5 for 3072 bits; esp_bignum.c:322, 398);
 * - M' = −N⁻¹ mod 2^32 (modular_inverse, esp_bignum.c:205-223) and r = R² mod N with R = 2^(32·words)
 *   (calculate_rinv, esp_bignum.c:237-249);
 * - MODEXP: X = base, Y = exponent, M, Z = r, M' → Z = X^Y mod M (mbedtls_mpi_exp_mod, esp_bignum.c:395-418);
 * - modular product: X = a, Z = r, MULT_START (Z = a·R mod M), then X = b, MULT_START → Z = a·b mod M
 *   (esp_mpi_mul_mpi_mod, esp_bignum.c:293-337 and modular_multiply_finish 453-472).
 * mbedtls reads those results as they are; this module also subtracts N once more when a result reads ≥ N, as
 * v4.4.8's esp_mont_hw_op does after a single Montgomery product (esp32/bignum.c:217-220, HAC 14.36 step 3).
 *
 * The classic ESP32's MODEXP runs over every bit of the operand width, not just the exponent's length (ESP-IDF
 * v4.4.8 components/mbedtls/port/include/bignum_impl.h:7-14 replaces it on the ESP32 for that reason; the later
 * chips have a "search" option to skip the leading zeros, esp32s2/bignum.c:168-171): a 3072-bit MODEXP takes
 * the same ≈ 0.29 s for a 256-bit exponent as for a 3072-bit one (ESP-IDF commit 5ed8388f6b5 measured 293.6 ms
 * for a 3072-bit RSA public operation at 240 MHz; test-host/sim/rsa.ts modexpMs). One MODEXP still
 * costs the interpreter a few operand writes and one read, where a square-and-multiply driven from JS would
 * cost hundreds of 96-word transfers.
 *
 * Failures: fail(why) with BUSY (someone else holds the block), LOST (someone used it meanwhile), SILENT (no
 * answer within the bound) from esp32-rsa.ts, or a reason of this module; the block is released in every case and
 * no result is given. Operands and results are big-endian byte arrays of the modulus' length, as SRP's PAD().
 */
import { Rsa, Dport, PeriBit } from "./esp32-rsa-regs";
import { MpiIo, rsaBlock, RsaBlock, WAIT_S, SILENT } from "./esp32-rsa";

/**
 * Longest wait for a MODEXP, in seconds. A 3072-bit MODEXP takes ≈ 0.29 s at 240 MHz (ESP-IDF commit 5ed8388f6b5
 * measured 293.6 ms, docs/esp32-rsa-block.md §2); the block runs slower with the CPU clock (forum figures at 160
 * and 240 MHz, same section), ≈ 0.9 s at 80 MHz. 2 s is the bound mbedtls itself gave one operation (v3.3.6
 * esp_bignum.c:271, 2000 / portTICK_PERIOD_MS) and bounds a block that never answers.
 */
export var EXP_WAIT_S = 2;

/** The constants of one modulus N that the block needs, built once by modGroup. */
export interface ModGroup {
  /** N as words, least significant first (the M memory's layout). */
  n: Uint32Array;
  /** M' = −N⁻¹ mod 2^32. */
  mdash: number;
  /** R² mod N (R = 2^(32·words)) as words; made on the block at first use when modGroup was not given it. */
  r2?: Uint32Array;
  /** MULT_MODE / MODEXP_MODE: 512-bit blocks − 1. */
  mode: number;
  /** Bytes of N, the length of every operand and result. */
  len: number;
}

/** The low 32 bits of a·b (a, b unsigned 32-bit), without Math.imul (Espruino has none). */
function mul32(a: number, b: number): number {
  return ((a & 0xffff) * b + ((((a >>> 16) * (b & 0xffff)) & 0xffff) * 65536)) >>> 0;
}

/**
 * Big-endian bytes → `n` little-endian words (zero-extended; bytes beyond n words must be zero). One native
 * DataView read per word: in Espruino that costs less than assembling the word from four bytes in JS.
 */
function toWords(b: Uint8Array, n: number): Uint32Array {
  var w = new Uint32Array(n), l = b.length, full = l >> 2, i;
  for (i = 0; i < l - 4 * n; i++) if (b[i]) throw new Error("bignum: operand longer than the modulus");
  if (full > n) full = n;
  var v = new DataView(b.buffer, b.byteOffset, l);
  for (i = 0; i < full; i++) w[i] = v.getUint32(l - 4 - 4 * i);
  // The leading 1–3 bytes of a length that is not a multiple of 4 make the next word.
  if (i < n) for (var j = 0; j < (l & 3); j++) w[i] = w[i]! | (b[j]! << (8 * ((l & 3) - 1 - j)));
  return w;
}

/** Little-endian words → `len` big-endian bytes (len a multiple of 4). */
function toBytes(w: Uint32Array, len: number): Uint8Array {
  var b = new Uint8Array(len), v = new DataView(b.buffer);
  for (var i = 0; i < len >> 2; i++) v.setUint32(len - 4 - 4 * i, w[i]!);
  return b;
}

/** a ≥ n (same length, little-endian words). */
function geq(a: Uint32Array, n: Uint32Array): boolean {
  for (var i = a.length - 1; i >= 0; i--) if (a[i] !== n[i]) return a[i]! > n[i]!;
  return true;
}

/** a − n in place, modulo 2^(32·words); returns the borrow out (0 or 1). */
function sub(a: Uint32Array, n: Uint32Array): number {
  for (var i = 0, c = 0; i < a.length; i++) {
    var d = a[i]! - n[i]! - c;
    c = d < 0 ? 1 : 0;
    a[i] = d + c * 4294967296;
  }
  return c;
}

/** a + b in place (a ← a + b mod 2^(32·words)); returns the carry out. */
function add(a: Uint32Array, b: Uint32Array): number {
  for (var i = 0, c = 0; i < a.length; i++) {
    var s = a[i]! + b[i]! + c;
    c = s > 0xffffffff ? 1 : 0;
    a[i] = s - c * 4294967296;
  }
  return c;
}

/** 2a mod N for a < N, in place. */
function dbl(g: ModGroup, a: Uint32Array): Uint32Array {
  var w = a.length, top = a[w - 1]! >>> 31;
  for (var j = w - 1; j > 0; j--) a[j] = (a[j]! << 1) | (a[j - 1]! >>> 31);
  a[0] = a[0]! << 1;
  // 2a < 2N: one subtraction, modulo the width when the top bit went out.
  if (top || geq(a, g.n)) sub(a, g.n);
  return a;
}

/** a mod N for a < 2N (any value of the modulus' width, N's top bit being set), in place. */
function reduce(g: ModGroup, a: Uint32Array): Uint32Array {
  if (geq(a, g.n)) sub(a, g.n);
  return a;
}

/**
 * The block's constants of the modulus `nBigEndian` (a whole number of 512-bit blocks, up to 4096 bits, odd,
 * top bit set, as the SRP groups of RFC 5054 are): M' here in JS; R² mod N from `r2BigEndian` when given
 * (computed at build time), else on the block at the first operation (about a dozen products, checked).
 */
export function modGroup(nBigEndian: Uint8Array, r2BigEndian?: Uint8Array): ModGroup {
  var len = nBigEndian.length, words = len >> 2;
  if (len % 64 || !len || len > 512 || !(nBigEndian[0]! & 128) || !(nBigEndian[len - 1]! & 1))
    throw new Error("bignum: the modulus must be odd, 512..4096 bits in whole 512-bit blocks, top bit set");
  var n = toWords(nBigEndian, words), x = n[0]!;
  // Newton's iteration for N⁻¹ mod 2^32: x = N is right to 3 bits (N odd), each step doubles them.
  for (var i = 0; i < 4; i++) x = mul32(x, (2 - mul32(n[0]!, x)) >>> 0);
  return { n: n, mdash: (0x100000000 - x) % 0x100000000, r2: r2BigEndian && toWords(r2BigEndian, words), mode: words / 16 - 1, len: len };
}

/**
 * One use of the block, start to end in one go: acquire with N, run `body` (operands written, earlier products run
 * with blk.run), start the operation body returns (Rsa.MULT_START or Rsa.MODEXP_START) if the block is still ours,
 * poll its done flag (at most `limit` s, checking ownership), read Z, check ownership, release, then(Z).
 * The block is never held across a slice: a caller whose `defer` never calls back (an abandoned session) leaves it
 * released. A 3072-bit MODEXP thus keeps the interpreter busy for its ≈ 0.29 s.
 */
function use(io: MpiIo, g: ModGroup, body: (blk: RsaBlock, X: number, Z: number) => number, limit: number,
  then: (z: Uint32Array) => void, fail: (why: string) => void) {
  var blk = rsaBlock(io), E = io.peek, K = io.poke, B = io.rsa, why = blk.acquire(g.n, g.mdash, g.mode), z;
  if (why) return fail(why);
  try {
    K(B + body(blk, B + Rsa.MEM_X, B + Rsa.MEM_Z), E(io.dport + Dport.PERI_CLK_EN) >> PeriBit.RSA & 1); // starts only on a block still ours
    var t0 = io.now(), t;
    while (E(B + Rsa.INTERRUPT) !== 1) {
      blk.verify();
      t = io.now() - t0;
      if (t < 0 || t > limit) throw SILENT;
    }
    K(B + Rsa.INTERRUPT, 1);
    z = E(B + Rsa.MEM_Z, g.n.length); // a new array (Espruino src/jswrap_io.c jswrap_io_peek)
    blk.verify();
  } catch (e) {
    blk.release();
    return fail("" + e);
  }
  blk.release();
  then(z);
}

/**
 * R² mod N on the block, once: R mod N = R − N (N's top bit is set), times 8 by three doublings in JS, then ten
 * Montgomery squarings (c·R → c²·R, c = 2^3 → 2^3072 = R for 3072 bits; in general 3·2^k = 32·words is solved
 * below), each result reduced in JS. Checked by one more product: Montgomery(R² mod N, 1) must give R mod N.
 */
function withR2(io: MpiIo, g: ModGroup, then: () => void, fail: (why: string) => void) {
  if (g.r2) return then();
  var w = g.n.length, rm = new Uint32Array(w), one = new Uint32Array(w), a: Uint32Array, i;
  sub(rm, g.n); // 0 − N mod R = R − N
  one[0] = 1;
  // 32·words = c·2^k with c the odd part: start from 2^c·R (c doublings), square k times.
  var c = 32 * w, k = 0;
  while (!(c & 1)) { c /= 2; k++; }
  a = new Uint32Array(rm);
  for (i = 0; i < c; i++) dbl(g, a);
  use(io, g, function (blk, X, Z) {
    for (i = 0; i < k; i++) {
      io.poke(X, a);
      io.poke(Z, a);
      blk.run(Rsa.MULT_START);
      a = reduce(g, io.peek(Z, w));
    }
    io.poke(X, one);
    io.poke(Z, a);
    return Rsa.MULT_START;
  }, WAIT_S, function (z) {
    reduce(g, z);
    for (var i = 0; i < w; i++) if (z[i] !== rm[i]) return fail("wrong R² mod N (the block's products disagree with JS)");
    g.r2 = a;
    then();
  }, fail);
}

/**
 * R² mod N made if missing, then `op` in a slice of its own through `defer` when given (the block is free
 * between the two), else at once.
 */
function later(io: MpiIo, g: ModGroup, defer: ((fn: () => void) => void) | undefined, op: () => void, fail: (why: string) => void) {
  withR2(io, g, function () {
    if (defer) defer(op);
    else op();
  }, fail);
}

/**
 * base^exp mod N on the block (base < 2^(8·len), exp up to len significant bytes); done(result) or fail(why).
 * Operands are converted only once the block is held, so no copy of them outlives its write.
 */
export function blockModExp(io: MpiIo, g: ModGroup, base: Uint8Array, exp: Uint8Array, done: (r: Uint8Array) => void,
  fail: (why: string) => void, defer?: (fn: () => void) => void): void {
  // X^0 = 1 without the block, as mbedtls does (esp_bignum.c:373-375).
  for (var i = 0; i < exp.length && !exp[i]; i++);
  if (i === exp.length) {
    var one = new Uint8Array(g.len);
    one[g.len - 1] = 1;
    return done(one);
  }
  later(io, g, defer, function () {
    use(io, g, function (_blk, X, Z) {
      io.poke(X, reduce(g, toWords(base, g.n.length)));
      io.poke(io.rsa + Rsa.MEM_Y, toWords(exp, g.n.length));
      io.poke(Z, g.r2!);
      return Rsa.MODEXP_START;
    }, EXP_WAIT_S, function (z) { done(toBytes(reduce(g, z), g.len)); }, fail);
  }, fail);
}

/** a·b mod N on the block, as mbedtls' two-step modular product (a, b < 2^(8·len)); done(result) or fail(why). */
export function blockModMul(io: MpiIo, g: ModGroup, a: Uint8Array, b: Uint8Array, done: (r: Uint8Array) => void,
  fail: (why: string) => void, defer?: (fn: () => void) => void): void {
  later(io, g, defer, function () {
    use(io, g, function (blk, X, Z) {
      io.poke(X, reduce(g, toWords(a, g.n.length)));
      io.poke(Z, g.r2!);
      blk.run(Rsa.MULT_START); // Z = a·R mod N
      io.poke(X, reduce(g, toWords(b, g.n.length)));
      return Rsa.MULT_START; // Z = a·b mod N
    }, WAIT_S, function (z) { done(toBytes(reduce(g, z), g.len)); }, fail);
  }, fail);
}

/** (a + b) mod N in JS, for a, b < N (big-endian, the modulus' length). */
export function modAdd(g: ModGroup, a: Uint8Array, b: Uint8Array): Uint8Array {
  var w = g.n.length, s = toWords(a, w);
  // a + b < 2N: one subtraction when it overflows the width or reaches N.
  if (add(s, toWords(b, w)) || geq(s, g.n)) sub(s, g.n);
  return toBytes(s, g.len);
}

/**
 * a mod N == 0 (SRP's check of the client's A, which may be ≥ N): a holds at most the modulus' length of
 * significant bytes, so a < 2^(8·len) ≤ 2N and the only multiples of N it can be are 0 and N.
 */
export function isZeroMod(g: ModGroup, a: Uint8Array): boolean {
  var x = toWords(a, g.n.length), zero = 1, eq = 1;
  for (var i = 0; i < x.length; i++) {
    zero &= +(x[i] === 0);
    eq &= +(x[i] === g.n[i]);
  }
  return !!(zero | eq);
}

/**
 * A copy of b (big-endian bytes, b ≥ 2^j) less 2^j. The borrow loop runs once unless the byte at 2^j is below the
 * bit (native copy, no pass over every word: the self-test runs on the board before first use).
 */
function minus2j(b: Uint8Array, j: number): Uint8Array {
  var r = new Uint8Array(b), i = r.length - 1 - (j >> 3), d = 1 << (j & 7);
  for (; d; i--) {
    var v = r[i]! - d;
    d = v < 0 ? 1 : 0;
    r[i] = v + 256 * d;
  }
  return r;
}

/**
 * Known-answer test before first use (N must be prime, as SRP's safe primes are), each check against a value
 * JS knows without the block:
 * - R² mod N, when made on the block, is checked there (withR2);
 * - the two-step product (R mod N)·8 must give 8R mod N (JS knows R mod N = R − N and doubles it; not R·R, whose
 *   first step is the identity of the Montgomery form and would let a fault cancel out); its raw Montgomery
 *   results stay below R;
 * - the two-step product (N − 2^j)·(N − 8) ≡ (−2^j)·(−8) must give 2^(j+3) (j = bits − 67, 2^(j+3) < N): for
 *   the 3072-bit SRP group both of its raw Montgomery results reach ≥ R (pinned in
 *   test-host/tests/esp32-bignum.test.ts), the case about a quarter of the products with this N meet and the
 *   block must bring back below R (docs/esp32-rsa-block.md §9);
 * - MODEXP 3^(N−1) mod N must give 1 (Fermat), a full-width exponent through every product of the operation.
 * done(true) or done(false, why); the block is released either way.
 */
export function bignumSelfTest(io: MpiIo, g: ModGroup, done: (ok: boolean, why?: string) => void): void {
  var w = g.n.length, rm = new Uint32Array(w), small = new Uint8Array(g.len), j = 8 * g.len - 67, big = new Uint8Array(g.len),
    nb = toBytes(g.n, g.len);
  sub(rm, g.n);
  small[g.len - 1] = 8;
  big[g.len - 1 - ((j + 3) >> 3)] = 1 << ((j + 3) & 7);
  function bad(why: string) { done(false, why); }
  function same(r: Uint8Array, want: Uint8Array) {
    for (var i = 0; i < g.len; i++) if (r[i] !== want[i]) return false;
    return true;
  }
  var rmb = toBytes(rm, g.len), want = toBytes(dbl(g, dbl(g, dbl(g, rm))), g.len);
  blockModMul(io, g, rmb, small, function (r) {
    if (!same(r, want)) return bad("wrong modular product");
    blockModMul(io, g, minus2j(nb, j), minus2j(nb, 3), function (r) {
      if (!same(r, big)) return bad("wrong modular product (Montgomery results ≥ R)");
      small[g.len - 1] = 3;
      blockModExp(io, g, small, minus2j(nb, 0), function (r) {
        var one = new Uint8Array(g.len);
        one[g.len - 1] = 1;
        if (same(r, one)) done(true);
        else bad("wrong modular exponentiation");
      }, bad);
    }, bad);
  }, bad);
}
