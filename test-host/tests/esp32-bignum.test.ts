// 3072-bit modular arithmetic on the ESP32's RSA block (Security 2's SRP6a group, RFC 5054 Appendix A, 3072-bit,
// g = 5, as ESP-IDF's esp_srp.c N_3072 / g_3072) against Node's BigInt: MODEXP with the exponent sizes SRP uses
// (b: 256 bits as esp_srp.c draws it, u: 512 bits, a SHA-512; full 3072-bit exponents), the two-step modular
// product, the JS addition and zero check, the block's constants, the known-answer self-test and what makes it fail.
import test from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { modGroup, blockModExp, blockModMul, modAdd, isZeroMod, bignumSelfTest, ModGroup, EXP_WAIT_S } from "../../src/crypto/esp32-bignum";
import { MpiIo } from "../../src/crypto/esp32-rsa";
import { negInv, modexpMs, MULT_US, MODEXP_STEP_US, RSA_BASE } from "../sim/rsa";
import { rsaBench as bench, hex, toHex } from "./helpers";

const N_HEX = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff";
const N = BigInt("0x" + N_HEX), LEN = 384, R = 1n << 3072n;
const big = (b: Uint8Array) => BigInt("0x" + (toHex(b) || "0"));
const bytes = (v: bigint, len = LEN) => hex(v.toString(16).padStart(2 * len, "0"));
const rand = (bits: number) => big(nodeCrypto.randomBytes(bits / 8));
const modPow = (b: bigint, e: bigint, m: bigint) => {
  let r = 1n; b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};

/** Runs an operation to its end (synchronously, or through a queue of deferred slices); "fail why" on failure. */
function run(op: (done: (r: Uint8Array) => void, fail: (w: string) => void, defer?: (f: () => void) => void) => void, deferred = false) {
  let out = "";
  const q: (() => void)[] = [];
  let slices = 0;
  op((r) => (out = toHex(r)), (w) => (out = "fail " + w), deferred ? (f) => { slices++; q.push(f); } : undefined);
  while (q.length) q.shift()!();
  return { out, slices };
}
const exp = (io: MpiIo, g: ModGroup, b: bigint, e: bigint, deferred = false, elen = LEN) =>
  run((d, f, df) => blockModExp(io, g, bytes(b), bytes(e, elen), d, f, df), deferred);
const mul = (io: MpiIo, g: ModGroup, a: bigint, b: bigint) => run((d, f, df) => blockModMul(io, g, bytes(a), bytes(b), d, f, df));

test("bignum: the block's constants of N (M', R² mod N made on the block and checked) against BigInt; bad moduli refused", () => {
  const g = modGroup(bytes(N));
  assert.equal(g.mode, 5, "3072 bits = 6 blocks of 512: MODEXP_MODE/MULT_MODE 5");
  assert.equal(BigInt(g.mdash), negInv(N, 32n));
  assert.equal(g.r2, undefined);
  const { io, blk } = bench();
  assert.equal(exp(io, g, 5n, 7n).out, toHex(bytes(modPow(5n, 7n, N))));
  let r2 = 0n;
  for (let i = g.r2!.length - 1; i >= 0; i--) r2 = (r2 << 32n) | BigInt(g.r2![i]!);
  assert.equal(r2, (R * R) % N);
  assert.equal(blk.clk & 4, 0, "block released");
  // Given at build time instead: the same results, no products for the constant.
  const pre = modGroup(bytes(N), bytes((R * R) % N)), b2 = bench();
  assert.equal(exp(b2.io, pre, 5n, 7n).out, toHex(bytes(modPow(5n, 7n, N))));
  assert.equal(b2.blk.ops, 1, "one MODEXP, nothing else");
  for (const bad of [bytes(N - 1n), bytes(N >> 8n, 383), bytes(N, 385), bytes(N >> 1n)])
    assert.throws(() => modGroup(bad), /modulus must be odd, 512\.\.4096 bits/);
});

test("bignum: MODEXP equals BigInt for SRP's exponents (256-bit b, 512-bit u, 3072-bit) and random bases, bases ≥ N reduced", () => {
  const { io, blk } = bench();
  const g = modGroup(bytes(N), bytes((R * R) % N));
  const cases: [bigint, bigint][] = [[5n, rand(256)], [5n, rand(256)], [rand(3072) % N, rand(512)], [rand(3072) % N, rand(512)],
    [rand(3072) % N, rand(3072)], [N + 12345n, rand(256)], [N - 1n, 2n], [1n, rand(512)], [0n, 5n], [rand(3072) % N, 1n], [7n, 0n]];
  for (const [b, e] of cases) assert.equal(exp(io, g, b, e).out, toHex(bytes(modPow(b, e, N))), `${b.toString(16).slice(0, 12)}^${e.toString(16).slice(0, 12)}`);
  // A short exponent array (32 bytes, as b is drawn) gives the same.
  const e = rand(256);
  assert.equal(exp(io, g, 5n, e, false, 32).out, toHex(bytes(modPow(5n, e, N))));
  assert.ok(blk.ops >= cases.length - 1);
});

test("bignum: operands of any byte length (leading zeros, lengths not a multiple of 4); longer than N refused with a reason", () => {
  const { io, blk } = bench();
  const g = modGroup(bytes(N), bytes((R * R) % N));
  for (const [blen, elen] of [[1, 1], [3, 5], [383, 31], [384, 33], [390, 63], [385, 385]]) {
    const b = rand(8 * Math.min(blen, 384)) % N, e = rand(8 * Math.min(elen, 384)) | 1n;
    const r = run((d, f) => blockModExp(io, g, bytes(b, blen), bytes(e, elen), d, f)).out;
    assert.equal(r, toHex(bytes(modPow(b, e, N))), `base ${blen} bytes, exponent ${elen} bytes`);
  }
  const long = bytes(R + 5n, 385);
  assert.equal(run((d, f) => blockModExp(io, g, long, bytes(3n), d, f)).out, "fail Error: bignum: operand longer than the modulus");
  assert.equal(run((d, f) => blockModMul(io, g, bytes(3n), long, d, f)).out, "fail Error: bignum: operand longer than the modulus");
  assert.equal(blk.clk & 4, 0, "released after the refusal");
});

test("bignum: two-step modular product equals BigInt for random operands, operands ≥ N and the edges", () => {
  const { io } = bench();
  const g = modGroup(bytes(N), bytes((R * R) % N));
  const cases: [bigint, bigint][] = [[0n, rand(3072) % N], [1n, N - 1n], [N - 1n, N - 1n], [R - 1n, R - 1n], [N, 5n], [N + 1n, N + 2n]];
  for (let i = 0; i < 40; i++) cases.push([rand(3072) % N, rand(3072) % N]);
  for (const [a, b] of cases) assert.equal(mul(io, g, a, b).out, toHex(bytes((a * b) % N)));
});

test("bignum: modAdd and isZeroMod (JS) equal BigInt, including a + b ≥ 2^3072 and A ∈ {0, N}", () => {
  const g = modGroup(bytes(N));
  const cases: [bigint, bigint][] = [[0n, 0n], [N - 1n, 1n], [N - 1n, N - 1n], [N - 2n, 1n], [1n << 3071n, (1n << 3071n) + 12345n]];
  for (let i = 0; i < 200; i++) cases.push([rand(3072) % N, rand(3072) % N]);
  for (const [a, b] of cases) assert.equal(toHex(modAdd(g, bytes(a), bytes(b))), toHex(bytes((a + b) % N)));
  assert.equal(isZeroMod(g, bytes(0n)), true);
  assert.equal(isZeroMod(g, bytes(N)), true);
  assert.equal(isZeroMod(g, new Uint8Array(0)), true);
  assert.equal(isZeroMod(g, bytes(N, 400)), true, "leading zero bytes");
  for (const v of [1n, N - 1n, N + 1n, R - 1n, rand(3072)]) assert.equal(isZeroMod(g, bytes(v)), v % N === 0n);
  assert.throws(() => isZeroMod(g, bytes(R, 385)), /longer than the modulus/);
});

test("bignum: through defer the operation runs in a slice of its own; a defer that never calls back leaves the block free", () => {
  const { io, blk } = bench();
  const g = modGroup(bytes(N)), b = rand(3072) % N, e = rand(256);
  const r = exp(io, g, b, e, true);
  assert.equal(r.out, toHex(bytes(modPow(b, e, N))));
  assert.equal(r.slices, 1);
  // An abandoned session's defer drops the work: nothing is held.
  let out = "";
  blockModExp(io, g, bytes(b), bytes(e), (x) => (out = toHex(x)), (w) => (out = w), () => {});
  assert.equal(out, "");
  assert.equal(blk.clk & 4, 0, "block released");
  assert.equal(exp(io, g, b, e).out, r.out, "and usable");
});

test("simulator: a 3072-bit MODEXP keeps the block busy for its hardware time (ESP-IDF's measured ≈ 294 ms), a product for 45 µs", () => {
  // 2·3072 products of 2.8 + 45 µs: ESP-IDF commit 5ed8388f6b5 measured 293.6 ms for a 3072-bit public operation.
  assert.equal(modexpMs(96), 2 * 3072 * (MODEXP_STEP_US + 9 * MULT_US) / 1000);
  assert.ok(Math.abs(modexpMs(96) - 293.6) < 3 && Math.abs(modexpMs(64) - 93.2) < 1);
  const { io, blk } = bench();
  const g = modGroup(bytes(N), bytes((R * R) % N));
  const t0 = blk.now();
  assert.equal(exp(io, g, 5n, rand(256)).out.length, 768);
  const took = blk.now() - t0;
  // The model's clock advances only by polls (POLL_MS each): the wait ends within one poll of the hardware time.
  assert.ok(took >= modexpMs(96) && took < modexpMs(96) + 1, `${took} ms`);
  const t1 = blk.now();
  assert.equal(mul(io, g, 3n, 4n).out, toHex(bytes(12n)));
  assert.ok(blk.now() - t1 < 1, "two products: well under a millisecond");
});

test("bignum self-test: passes on the model (with R² made on the block), fails with the reason on a wrong or silent block", () => {
  const ok = bench();
  let res: [boolean, string?] | undefined;
  bignumSelfTest(ok.io, modGroup(bytes(N)), (o, w) => (res = [o, w]));
  assert.deepEqual(res, [true, undefined]);
  assert.equal(ok.blk.clk & 4, 0);
  // Every result off by a bit: R² mod N fails its own check, or (given) the product does.
  for (const r2 of [undefined, bytes((R * R) % N)]) {
    const bad = bench("wrong");
    res = undefined;
    bignumSelfTest(bad.io, modGroup(bytes(N), r2), (o, w) => (res = [o, w]));
    assert.equal(res![0], false);
    assert.match(res![1]!, r2 ? /wrong modular product/ : /wrong R² mod N/);
    assert.equal(bad.blk.clk & 4, 0, "released");
  }
  // A block that never finishes: "no answer" after a bounded wait, never a result.
  const stuck = bench("stuck");
  const t0 = stuck.blk.now();
  res = undefined;
  bignumSelfTest(stuck.io, modGroup(bytes(N), bytes((R * R) % N)), (o, w) => (res = [o, w]));
  assert.deepEqual(res, [false, "no answer"]);
  assert.ok((stuck.blk.now() - t0) / 1000 <= EXP_WAIT_S * 1.1);
  assert.equal(stuck.blk.clk & 4, 0);
});

test("bignum self-test: its (N − 2^3005)·(N − 8) case reaches Montgomery results ≥ R in both steps and fails a block that drops their carry", () => {
  // The raw REDC of each step, as the block computes it (R = 2^3072; the model's REDC, test-host/sim/rsa.ts).
  const inv = negInv(N, 3072n), redc = (x: bigint, z: bigint) => (x * z + BigInt.asUintN(3072, x * z * inv) * N) >> 3072n;
  const a = N - (1n << 3005n), b = N - 8n, r2 = (R * R) % N;
  const step1 = redc(a, r2), step2 = redc(b, step1 - N);
  assert.ok(step1 >= R && step2 >= R, "both raw results ≥ R");
  assert.equal(step2 - N, 1n << 3008n, "and the product is 2^3008, the self-test's expected value");
  // The self-test's other product, (R − N)·8, stays below R in both steps: alone it would not see the case.
  const s1 = redc(R - N, r2);
  assert.ok(s1 < R && redc(8n, s1) < R);
  // A block that wraps such results mod R instead of reducing them: the (R − N)·8 case and the MODEXP pass, this
  // case does not.
  const g = modGroup(bytes(N), bytes(r2));
  const wrap = bench();
  wrap.blk.overflow = "wrap";
  assert.equal(mul(wrap.io, g, R - N, 8n).out, toHex(bytes(((R - N) * 8n) % N)));
  assert.notEqual(mul(wrap.io, g, a, b).out, toHex(bytes(1n << 3008n)));
  let res: [boolean, string?] | undefined;
  bignumSelfTest(wrap.io, g, (o, w) => (res = [o, w]));
  assert.deepEqual(res, [false, "wrong modular product (Montgomery results ≥ R)"]);
  assert.equal(wrap.blk.clk & 4, 0, "released");
});

test("bignum self-test fails when only MODEXP is wrong (the products right, the exponentiation off by a bit)", () => {
  const { io, blk } = bench();
  const poke = io.poke;
  io.poke = (a, v) => { if (a === RSA_BASE + 0x808) blk.fault = "wrong"; poke(a, v); }; // RSA_MODEXP_START_REG
  let res: [boolean, string?] | undefined;
  bignumSelfTest(io, modGroup(bytes(N), bytes((R * R) % N)), (o, w) => (res = [o, w]));
  assert.deepEqual(res, [false, "wrong modular exponentiation"]);
  assert.equal(blk.clk & 4, 0);
});

test("bignum: a block held by someone else (BUSY) or taken mid-MODEXP by mbedtls (LOST) gives no result (the model's mbedtls gets its right answer; on the chip unknown, docs §3)", () => {
  const g = modGroup(bytes(N), bytes((R * R) % N));
  const held = bench();
  held.blk.write(0x3ff0001c, 4); // clock on: someone has the block
  assert.equal(exp(held.io, g, 5n, 9n).out, "fail busy");
  // mbedtls runs one operation (another task pre-empting ours) while our MODEXP is being waited for.
  const { io, blk } = bench();
  blk.interfereAt = blk.accesses + 1000; // well inside the polling of the done flag
  assert.equal(exp(io, g, 5n, rand(256)).out, "fail taken by another user");
  assert.deepEqual(blk.mbedtlsRuns, [true]);
  assert.equal(blk.clk & 4, 0);
  // The block is usable again afterwards.
  assert.equal(exp(io, g, 5n, 9n).out, toHex(bytes(modPow(5n, 9n, N))));
});
