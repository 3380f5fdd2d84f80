/**
 * X25519 (RFC 7748) on the classic ESP32's RSA (MPI) accelerator, driven word by word with peek32/poke32:
 * the interpreter only moves 4-word arrays, the hardware does every field multiplication, the additions
 * and subtractions (packed operands, below) and the inversion (one modular exponentiation).
 *
 * The block (registers: esp32-rsa-regs.ts, docs/esp32-rsa-block.md): one MULT_START with MULT_MODE = blocks − 1
 * is one Montgomery product Z ← X·Z·R⁻¹ mod M, R = 2^(512·blocks): mbedtls runs it twice for a plain X·Y mod M,
 * first with Z = R² mod M (ESP-IDF v3.3.6 components/mbedtls/port/esp_bignum.c:313-332); M' = −M⁻¹ mod 2^32.
 * MODEXP_START computes Z = X^Y mod M from X, Y, M, Z = R² mod M and M' (esp_bignum.c:395-418).
 *
 * Arithmetic: two blocks (MULT_MODE 1, R = 2^1024), M = p = 2^255 − 19, values in Montgomery form aR mod p.
 * - Packing: an operand of 8-word slots [a | b | c] is a + 2^256·b + 2^512·c ≡ a + 38·b + 1444·c (mod p),
 *   so one product of a packed operand yields a sum. A difference comes from a slot holding a value
 *   pre-multiplied by −1/38: each point keeps x, z and n = −z/38.
 * - Bounds: every value read back is ≤ p < 2^255; a 3-slot X times a 1-slot Z, or 2 slots times 2, is
 *   below 2^1022, so (X·Z + m·M)/R ≤ M even without the final subtraction (which ESP-IDF does in software,
 *   esp_mont_hw_op: HAC 14.36 step 3) — results always fit one slot.
 * - Ladder step (RFC 7748 §5 with the common factor 4 of the addition dropped), 18 hardware products:
 *     U = x2·x3 − z2·z3 = [x2·x3 | z2·n3],  V = z2·x3 − x2·z3 = [z2·x3 | x2·n3],  x3' = U², z3' = x1·V²
 *     S = x2² − z2² = [x2² | z2·n2],  Q = x2² + A·x2·z2 + z2² = [x2² | −A·(x2·n2) | n2²],
 *     x2' = S², z2' = 4·(z2·x2)·Q, and n2' = −z2'/38, n3' = −z3'/38 by one more product each. Both points get
 *     x, z and n every step, whichever the next bit, so the block sees the same operations for every key (the
 *     driver before issue 23 made only the n the next step needed: one product fewer, key-dependent order).
 *   The Z memory keeps the last result, so chained products (x1·V², 4·P·Q, −z/38) need no write.
 * - Slots: a product reads all 32 words of X and Z. A product writes every word of Z (the result, zeros above),
 *   so a value written to Z's first slot needs nothing more; X's second and third slots, written by the packed
 *   operands, are cleared by the next 24-word constant written to X (or by NIL when none comes).
 * - Inversion: Z = X^(p−2) mod p with X = zR gives z⁻¹R⁻¹; two products by x2R and R² give x2/z2.
 * Cost (callgrind, Espruino 2v29 built for 32-bit Linux with 14-byte JsVars, peripheral stood in by RAM, minified as
 * in the bundle; README › X25519 on the ESP32's RSA accelerator): 4,582 operations, ≈ 108 k instructions each as on
 * the board (the bench's stand-in calls around peek32 removed): 2–8 four-word pokes, the clock-bit read that guards
 * the start, start, flag read and clear and two 4-word peeks. The products are written out in the ladder (a helper
 * call with the operands as parameters cost ≈ 55 k of the 300 k an operation once took), and the names they use are
 * the ladder's own first variables (a name is found by walking the scope's variables in order). Each result is read
 * as two 4-word peeks because one 16-word peek allocates a flat string (over 16 bytes), which cost more than
 * everything else in an operation. The hardware (≈ 5 µs per 1024-bit product) is not what decides; fewer products
 * or fewer native calls per product are where more would come from.
 *
 * The block itself (taking it, checking it is still ours, time-bounded waits, giving it back, which chips may
 * use it) is esp32-rsa.ts; its registers esp32-rsa-regs.ts (docs/esp32-rsa-block.md cites every one).
 * Every product is started only if the ownership check passes (the RSA clock still on: whoever used the block in
 * between turned it off on release), and each slice ends with a full check; a failed one throws LOST, the slice's
 * work is dropped and the caller redoes the X25519 in JS.
 *
 * Same block operations for every key: each ladder step writes the same registers with the same number of words,
 * starts the same operations and reads the same results in the same order whatever the scalar's bits; only
 * which JS arrays are written (the conditional swap, a reference swap) depends on them
 * (test-host/tests/esp32-rsa.test.ts records the access sequence of several keys). The interpreter is not
 * constant-time: the swap's few assignments run or not (docs/esp32-rsa-block.md §6).
 *
 * Why plain peek32/poke32 are safe enough here (src/jswrap_io.c jswrap_io_peek/jswrap_io_poke):
 * - Lost writes (ESP-IDF IDF-6029, issues 8710 and 10403; comment in mpi_ll.h mpi_ll_write_to_mem_block):
 *   GCC turned ESP-IDF's zeroing loop into a ROM memset whose stores to the MPI memory got lost. Espruino's
 *   poke32 stores one 32-bit word per element with a call to the array iterator between stores, so no
 *   memset or store merging can arise; and we never rely on zeroing writes (CLEAN zeroes at power-up,
 *   slots we use are always written whole).
 * - DPORT read erratum (ESP32 errata CPU-3.10): the block is used only on chips where it does not apply
 *   (chipRevision in esp32-rsa.ts; docs/esp32-rsa-block.md §5).
 */

import { PeriBit, Rsa, Dport } from "./esp32-rsa-regs";
import { MpiIo, rsaBlock, chipRevision, BUSY, LOST } from "./esp32-rsa";

export type { MpiIo };

export interface MpiOptions {
  /** Schedules the next slice (setTimeout(fn, 0)); without it the work runs in one go. */
  defer?: (fn: () => void) => void;
  /** Ladder steps per slice (default 8). */
  slice?: number;
  /** The ladder's first scalar bit (default 254, RFC 7748); the self-test runs a short ladder from bit 7. */
  topBit?: number;
}

// A field element as the block gives it back is two 4-word reads (peek32(addr, 4) twice), held as two variables
// (halves "a" and "b"). A read of more than 16 bytes would allocate a flat string for its Uint32Array
// (src/jswrap_arraybuffer.c jswrap_arraybuffer_constructor, over JSV_FLAT_STRING_BREAK_EVEN), whose free-list search
// and sorted free cost 0.5–0.75 M instructions each in the Linux build (npm run bench), more than all the rest of an
// operation; 16 bytes fit ordinary string blocks.

/**
 * A 24-word constant (zeros above slot 0, so writing it clears stale slots): low words w0, w1 (negative
 * numbers stand for their 32-bit two's complement); with hi, words 2..7 are those of p (2^32 − 1, 2^31 − 1).
 */
function k(w0: number, w1: number, hi?: number): Uint32Array {
  var a = new Uint32Array(24);
  a[0] = w0; a[1] = w1;
  if (hi) { a.fill(-1, 2, 7); a[7] = -1 >>> 1; }
  return a;
}

/**
 * X25519(k, u) on the accelerator; `done(result)` or `fail(reason)`: BUSY (someone holds the block), LOST
 * (someone used it mid-slice), SILENT (it did not answer in time); the block is left released in every case.
 * Clamps k and masks the top bit of u as RFC 7748 §5 requires.
 */
export function x25519Mpi(sk: Uint8Array, u: Uint8Array, io: MpiIo, opt: MpiOptions, done: (r: Uint8Array) => void, fail: (why: string) => void): void {
  // What the helpers below use (the ladder keeps its own copies of the names it reads per product, see there).
  var blk = rsaBlock(io), B = io.rsa,
    // p; R mod p, R² mod p, (−1/38)·R, (−486662)·R, 4R mod p; p − 2 (test-host/tests/x25519-mpi.test.ts derives each)
    P = k(-19, -1, 1), ONE = k(0x1fd110, 0), R2 = k(0x4c9b2100, 0x3f4), NEG = k(-54891, -1, 1),
    NA = k(-1144174195, -237, 1), FOUR = k(0x7f4440, 0), PM2 = k(-21, -1, 1), NIL = new Uint32Array(16);
  var z = new Uint8Array(sk);
  z[31] = (z[31]! & 127) | 64;
  z[0] = z[0]! & 248;
  // x1 = uR: u (top bit masked, possibly ≥ p) times R² mod p.
  var ub = new Uint8Array(64);
  ub.set(u);
  ub[31] = ub[31]! & 127;
  // Between slices: the ladder state (x2, z2, n2, x3, z3, n3 as halves), the next bit and the pending swap.
  var x1: Uint32Array | undefined, state: Uint32Array[] = [], res: Uint8Array, nextBit = opt.topBit === undefined ? 254 : opt.topBit,
    lastSwap = 0, steps = opt.slice || 8;
  /**
   * Runs fn in slices, each between the block's acquire and release, with the full ownership check before
   * anything of the slice is kept. Whatever goes wrong ends the computation with fail(why).
   */
  function slice(fn: () => boolean) {
    // M = p (the rest of M is zero after CLEAN), M' = −p⁻¹ mod 2^32, two 512-bit blocks.
    var again: any = blk.acquire(P.subarray(0, 8), 0x286bca1b, 1);
    if (again) return fail(again);
    try {
      again = fn();
      blk.verify();
    } catch (e) {
      again = "" + e;
    }
    blk.release();
    if (typeof again == "string") return fail(again);
    if (!again) return done(res); // with the block released: done may start the next one
    if (opt.defer) opt.defer(function () { slice(fn); });
    else slice(fn);
  }
  function ladder(): boolean {
    // The hot names again, as this function's first variables (a copy per slice): a name is found by walking the
    // current scope's variables in order, then the enclosing scope's (its parameters and, as the minifier hoists
    // them, its functions come before its variables), and these are read ≈ 25 times per product.
    // One product is `K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1);`: the ownership
    // check (the RSA clock bit, Peri.RSA), start, the done flag (waited for, bounded in time, only if not yet set), clear.
    var K = io.poke, E = io.peek, CK = io.dport + Dport.PERI_CLK_EN, ST = B + Rsa.MULT_START, IN = B + Rsa.INTERRUPT, W = blk.wait,
      Z = B + Rsa.MEM_Z, Z4 = Z + 16, X = B + Rsa.MEM_X, X4 = X + 16, X1 = X + 32, Z1 = Z + 32, X2 = X + 64,
      // then the state, read a few times per product (written back at the end of the slice)
      x2a = state[0]!, x2b = state[1]!, z2a = state[2]!, z2b = state[3]!, n2a = state[4]!, n2b = state[5]!,
      x3a = state[6]!, x3b = state[7]!, z3a = state[8]!, z3b = state[9]!, n3a = state[10]!, n3b = state[11]!, T: Uint32Array,
      bit = nextBit, swap = lastSwap;
    if (!x1) {
      // x1 as a 24-word constant for z3' = x1·V² (the write clears X's upper slots, left by V²)
      K(X, new Uint32Array(ub.buffer)); K(Z, R2); blk.run(Rsa.MULT_START);
      x1 = new Uint32Array(24); x1.set(x3a = E(Z, 4)); x1.set(x3b = E(Z4, 4), 4);
      x2a = z3a = ONE.subarray(0, 4); x2b = z3b = ONE.subarray(4, 8); z2a = n2a = z2b = n2b = NIL.subarray(0, 4);
      n3a = NEG.subarray(0, 4); n3b = NEG.subarray(4, 8);
    }
    for (var s = 0; s < steps && bit >= 0; s++, bit--) {
      var kt = (z[bit >> 3]! >> (bit & 7)) & 1, t1a, t1b, t2a, t2b, t3a, t3b, t4a, t4b, a2a, a2b, b2a, b2b, cca, ccb, da, db;
      if (swap ^ kt) {
        T = x2a; x2a = x3a; x3a = T; T = x2b; x2b = x3b; x3b = T; T = z2a; z2a = z3a; z3a = T; T = z2b; z2b = z3b; z3b = T;
        T = n2a; n2a = n3a; n3a = T; T = n2b; n2b = n3b; n3b = T;
      }
      swap = kt;
      // One product per line: X and Z written unless they already hold the operand (X keeps the last write, Z the
      // last result), the product as above, the result read as two halves unless it stays in Z.
      // Written out, not a helper: in Espruino a call with a product's operands as parameters costs ≈ 40–55 k
      // instructions (≈ 10 k per parameter), a fifth of a product; a call without parameters ≈ 9 k (callgrind,
      // 2,000-call loops in the Linux build).
      K(X, x2a); K(X4, x2b); K(Z, x3a); K(Z4, x3b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); t1a = E(Z, 4); t1b = E(Z4, 4); // x2·x3
      K(Z, n3a); K(Z4, n3b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); t4a = E(Z, 4); t4b = E(Z4, 4);                             // x2·n3 = −x2·z3/38
      K(Z, x2a); K(Z4, x2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); a2a = E(Z, 4); a2b = E(Z4, 4);                             // x2²
      K(Z, n2a); K(Z4, n2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1);                                  // Z = x2·n2
      K(X, NA); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); cca = E(Z, 4); ccb = E(Z4, 4);                                                // −A·(x2·n2) = A·x2·z2/38
      K(X, n2a); K(X4, n2b); K(Z, n2a); K(Z4, n2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); da = E(Z, 4); db = E(Z4, 4); // n2² = z2²/1444
      K(X, z2a); K(X4, z2b); K(Z, n3a); K(Z4, n3b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); t2a = E(Z, 4); t2b = E(Z4, 4); // z2·n3 = −z2·z3/38
      K(Z, x3a); K(Z4, x3b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); t3a = E(Z, 4); t3b = E(Z4, 4);                             // z2·x3
      K(Z, n2a); K(Z4, n2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); b2a = E(Z, 4); b2b = E(Z4, 4);                             // z2·n2 = −z2²/38
      K(Z, x2a); K(Z4, x2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1);                                  // Z = P = x2·z2
      K(X, a2a); K(X4, a2b); K(X1, cca); K(X1 + 16, ccb); K(X2, da); K(X2 + 16, db);
      K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1);                                                               // Z = P·Q
      K(X, FOUR); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); z2a = E(Z, 4); z2b = E(Z4, 4);                         // z2' = 4·P·Q
      K(X, NEG); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); n2a = E(Z, 4); n2b = E(Z4, 4);                          // n2' = −z2'/38
      K(X, a2a); K(X4, a2b); K(X1, b2a); K(X1 + 16, b2b);
      K(Z, a2a); K(Z4, a2b); K(Z1, b2a); K(Z1 + 16, b2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); x2a = E(Z, 4); x2b = E(Z4, 4); // x2' = S²
      if (bit > 2) { // the clamped scalar's bits 2..0 are 0 (public): from there on (x3:z3) never reaches the result
        K(X, t1a); K(X4, t1b); K(X1, t2a); K(X1 + 16, t2b);
        K(Z, t1a); K(Z4, t1b); K(Z1, t2a); K(Z1 + 16, t2b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); x3a = E(Z, 4); x3b = E(Z4, 4); // x3' = U²
        K(X, t3a); K(X4, t3b); K(X1, t4a); K(X1 + 16, t4b);
        K(Z, t3a); K(Z4, t3b); K(Z1, t4a); K(Z1 + 16, t4b); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); // Z = V²
        K(X, x1); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); z3a = E(Z, 4); z3b = E(Z4, 4);                           // z3' = x1·V²
        K(X, NEG); K(ST, E(CK) >> PeriBit.RSA & 1); if (E(IN) !== 1) W(); K(IN, 1); n3a = E(Z, 4); n3b = E(Z4, 4);                          // n3' = −z3'/38
      } else K(X1, NIL);              // clear b2 from X's second slot for the next single-slot write
    }
    if (bit >= 0) {
      state = [x2a, x2b, z2a, z2b, n2a, n2b, x3a, x3b, z3a, z3b, n3a, n3b];
      nextBit = bit;
      lastSwap = swap;
      return true;
    }
    if (swap) { x2a = x3a; x2b = x3b; z2a = z3a; z2b = z3b; }
    // z2^(p−2) by MODEXP (mode 1 from acquire, Y = p − 2, Z = R² mod p), then ·x2R and ·R².
    K(X, z2a); K(X4, z2b); K(B + Rsa.MEM_Y, PM2); K(Z, R2); blk.run(Rsa.MODEXP_START);
    K(X, x2a); K(X4, x2b); blk.run(Rsa.MULT_START); K(X, R2); blk.run(Rsa.MULT_START);
    // The result is ≤ p (no final subtraction): p itself stands for 0, which Security 1 must see as 0.
    var r = new Uint32Array(8), i, nz = 0;
    r.set(E(Z, 4)); r.set(E(Z4, 4), 4);
    for (i = 0; i < 8; i++) nz |= r[i]! ^ P[i]!;
    res = nz ? new Uint8Array(r.buffer) : new Uint8Array(32);
    return false;
  }
  // The first slice too runs from the event loop, not inside the caller's event (the boot, a Cmd0).
  if (opt.defer) opt.defer(function () { slice(ladder); });
  else slice(ladder);
}

/** RFC 7748 §5.2: X25519(k, u) with k = u = 9 (one iteration of the iterated test) is this. */
/**
 * The self-test's known answer: the ladder of RFC 7748 §5 run over the 8 bits of the scalar 184 (0xb8) on u = 9,
 * then the inversion, i.e. x([184]·9) = this (checked against a BigInt ladder in test-host/tests/x25519-mpi.test.ts).
 * It goes through every kind of block operation an X25519 uses (products, packed squares, chained products,
 * MODEXP) in 136 operations instead of a whole X25519's 4,582, so right after boot SessionCmd0 does not wait
 * for a second full X25519 before the device key pair.
 */
var KAT = "a46728f0e807ecbc68aacaca53bb6f485be0211b24002bd08d571af3a6ae8d5a";
var KAT_K = new Uint8Array(32);
KAT_K[0] = 0xb8;
/** The base point u = 9 (little-endian), also the self-test's point. */
export var BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;

/**
 * A scalar multiplication: k, u, the callback for the 32-byte result, and optionally the `defer` its slices
 * go through (Security 1 passes one that stops an abandoned session's computation).
 */
export type ScalarMult = (k: Uint8Array, u: Uint8Array, done: (r: Uint8Array) => void, defer?: (fn: () => void) => void) => void;

/**
 * The accelerated X25519 with its safety net. Before the first use after boot it reads the chip revision: on
 * revisions before 3 of a dual-core chip (ESP32 errata CPU-3.10) the JS X25519 is used for good; elsewhere a
 * known answer is computed on the block (KAT). Either way one line says which path the board took:
 * "X25519 on the RSA accelerator (ESP32 revision 3)" or "X25519 in JS: …". A wrong answer or a block that does
 * not answer selects `js` for good with a warning; a block someone else holds or takes mid-computation (BUSY,
 * LOST) has that computation redone with `js`, and the block stays in use for the next.
 */
export function mpiScalarMult(io: MpiIo, opt: MpiOptions, log: { i(m: string): void; w(m: string): void }, js: ScalarMult): ScalarMult {
  var state = 0; // 0 untested, 1 testing, 2 good, 3 use js
  function off(why: string) {
    if (state !== 3) log.w("RSA accelerator " + why + ", using JS X25519");
    state = 3;
  }
  function run(k: Uint8Array, u: Uint8Array, done: (r: Uint8Array) => void, defer?: (fn: () => void) => void) {
    // A request made while the self-test runs (none in practice: Security 1 makes the device key pair
    // first and everything else waits for it) takes the JS path.
    if (state & 1) return js(k, u, done, defer);
    if (!state) {
      state = 1;
      var c = chipRevision(io);
      if (c.rev < 3 && !c.singleCore) {
        state = 3;
        log.i("X25519 in JS: ESP32 chip revision " + (c.rev < 0 ? "unreadable" : c.rev) + " with two cores (DPORT read erratum, ESP32 errata CPU-3.10)");
        return js(k, u, done, defer);
      }
      var failed = function (why: string) { off("self-test: " + why); run(k, u, done, defer); };
      x25519Mpi(KAT_K, BASE_POINT, io, { defer: opt.defer, slice: opt.slice, topBit: 7 }, function (r) {
        var bad = 0;
        for (var i = 0; i < 32; i++) bad |= r[i]! ^ parseInt(KAT.substr(2 * i, 2), 16);
        if (bad) return failed("wrong X25519");
        state = 2;
        log.i("X25519 on the RSA accelerator (ESP32 chip revision " + c.rev + (c.singleCore ? ", single core" : "") + ")");
        run(k, u, done, defer);
      }, failed);
      return;
    }
    x25519Mpi(k, u, io, defer ? { defer: defer, slice: opt.slice } : opt, done, function (why) {
      if (why === BUSY || why === LOST) log.w("RSA accelerator " + why + ": this X25519 redone in JS");
      else off(why);
      js(k, u, done, defer);
    });
  }
  return run;
}
