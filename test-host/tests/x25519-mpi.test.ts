// X25519 on the ESP32 RSA accelerator (src/crypto/x25519-mpi.ts) against the simulator's model of the block
// (test-host/sim/rsa.ts): RFC 7748 vectors, tweetnacl on random pairs, the peripheral left as mbedtls expects,
// and the self-test choosing the JS X25519 when the block answers wrongly or not at all.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import nodeCrypto from "node:crypto";
import nacl from "tweetnacl";
import { x25519Mpi, mpiScalarMult, MpiIo, BASE_POINT } from "../../src/crypto/x25519-mpi";
import { device, provisionSim, hex, toHex, rsaBench as bench } from "./helpers";

function mpi(k: Uint8Array, u: Uint8Array, io: MpiIo, slice?: number): Uint8Array {
  let out: Uint8Array | undefined, why: string | undefined;
  x25519Mpi(k, u, io, { slice }, (r) => (out = r), (w) => (why = w));
  if (why) throw new Error(why);
  return out!;
}

test("accelerated X25519: RFC 7748 §5.2 vectors, the first iteration, §6.1 Diffie-Hellman", () => {
  const { io, blk } = bench();
  assert.equal(toHex(mpi(hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), io)),
    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  assert.equal(toHex(mpi(hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"), io)),
    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  assert.equal(toHex(mpi(BASE_POINT, BASE_POINT, io)), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
  const a = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), b = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const A = mpi(a, BASE_POINT, io), B = mpi(b, BASE_POINT, io);
  assert.equal(toHex(A), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  assert.equal(toHex(B), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  assert.equal(toHex(mpi(a, B, io)), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  assert.equal(toHex(mpi(b, A, io)), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  assert.ok(blk.ops > 0);
});

// Each accelerated X25519 is ≈ 4,600 modelled big-number operations (≈ 50 ms here), so CI checks a seeded
// sample; X25519_MPI_PAIRS=10000 runs the full 10,000 (about 10 minutes).
const PAIRS = Number(process.env.X25519_MPI_PAIRS) || 40;
test(`accelerated X25519 equals tweetnacl on ${PAIRS.toLocaleString("en")} random pairs (seeded; X25519_MPI_PAIRS=10000 for all)`, () => {
  const { io } = bench();
  let seed = nodeCrypto.createHash("sha256").update("x25519-mpi-oracle").digest();
  for (let i = 0; i < PAIRS; i++) {
    seed = nodeCrypto.createHash("sha256").update(seed).digest();
    const k = seed.subarray(0, 32), u = nodeCrypto.createHash("sha256").update(seed).update("u").digest();
    if (i % 8 === 7) u[31]! |= 0x80; // top bit set: masked (RFC 7748 §5)
    if (i % 8 === 3) u.fill(0xff, 1, 32); // u ≥ p: non-canonical, reduced like tweetnacl
    assert.equal(toHex(mpi(k, u, io, 1 + (i % 50))), toHex(nacl.scalarMult(k, u)), `pair ${i}`);
  }
});

test("accelerated X25519 of a low-order point is all zeros (not p), so Security 1 refuses it", () => {
  const { io } = bench();
  const k = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  for (const u of [new Uint8Array(32), Uint8Array.from([1, ...new Array(31).fill(0)]), hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")])
    assert.equal(toHex(mpi(k, u, io)), "00".repeat(32));
});

test("the block is left as mbedtls leaves it (powered down, RSA in reset, clock off, other bits kept)", () => {
  const { io, blk } = bench();
  blk.clk = 0x1; // AES clock on (someone else's)
  blk.rst = 0xffffffff; // every peripheral held in reset, as ESP-IDF's startup leaves unused ones (clk.c esp_perip_clk_init)
  blk.pd = 1; // memories powered down, as mbedtls leaves them (esp_mpi_release_hardware)
  let slices = 0;
  x25519Mpi(BASE_POINT, BASE_POINT, io, { slice: 40, defer: (f) => { slices++; assert.equal(blk.clk & 4, 0, "clock off between slices"); f(); } }, () => {}, assert.fail);
  assert.ok(slices >= 6);
  assert.equal(blk.clk, 0x1);
  assert.equal(blk.rst & 4, 4, "RSA held in reset");
  assert.equal(blk.rst & 16, 0, "digital signature left out of reset (its reset would hold AES too)");
  assert.equal(blk.pd & 1, 1, "memories powered down");
  // A block whose clock is on is someone else's: not touched, the caller is told.
  blk.clk = 0x5;
  const ops = blk.ops;
  let why = "";
  x25519Mpi(BASE_POINT, BASE_POINT, io, {}, () => assert.fail("ran on a busy block"), (w) => (why = w));
  assert.equal(why, "busy");
  assert.equal(blk.ops, ops);
  assert.equal(blk.clk, 0x5);
});

test("second opinion: every constant x25519-mpi.ts writes to the block, derived from first principles with BigInt", () => {
  // Nothing here comes from the driver or the model: p and A from RFC 7748 §4.1, R from the mode the driver
  // sets (two 512-bit blocks: MULT_MODE = blocks − 1, ESP-IDF bignum.c (hw_words / 16) − 1), inverses by the
  // extended Euclidean algorithm (not Fermat, not Newton as the simulator's model uses).
  const p = 2n ** 255n - 19n, A = 486662n, R = 2n ** (512n * 2n), md = (x: bigint, m = p) => ((x % m) + m) % m;
  const egcdInv = (a: bigint, m: bigint) => {
    let [r0, r1, s0, s1] = [md(a, m), m, 1n, 0n];
    while (r1) { const q = r0 / r1; [r0, r1] = [r1, r0 - q * r1]; [s0, s1] = [s1, s0 - q * s1]; }
    assert.equal(r0, 1n, "invertible");
    return md(s0, m);
  };
  // The packing weights: slot b of an operand [a | b | c] is worth 2^256 ≡ 38 and slot c 2^512 ≡ 1444 (mod p).
  const w1 = md(2n ** 256n), w2 = md(2n ** 512n);
  assert.equal(w1, 38n);
  assert.equal(w2, 1444n);
  const want: Record<string, bigint> = {
    P: p,
    ONE: md(R), // 1 in Montgomery form
    R2: md(R * R), // converts into Montgomery form: x·R²·R⁻¹ = xR
    NEG: md(-egcdInv(w1, p) * R), // −1/38 in Montgomery form: n = −z/38, so [x | n] packs x − z
    NA: md(-A * R), // −A in Montgomery form, times x2·n2 = −x2·z2/38 gives A·x2·z2 after the 1/38 slot weight
    FOUR: md(4n * R),
    PM2: p - 2n, // exponent of the inversion (Fermat): z^(p−2) = z⁻¹
  };
  const src = fs.readFileSync(new URL("../../src/crypto/x25519-mpi.ts", import.meta.url), "utf8");
  // k(w0, w1[, hi]) as the driver builds it: 24 words, w0 and w1 low, with hi words 2..7 of p (2^32 − 1 ×5, 2^31 − 1).
  const kOf = (w0: number, w1: number, hi: boolean) => {
    const w = new Uint32Array(24); w[0] = w0; w[1] = w1;
    if (hi) { w.fill(0xffffffff, 2, 7); w[7] = 0x7fffffff; }
    let v = 0n;
    for (let i = 23; i >= 0; i--) v = (v << 32n) | BigInt(w[i]!);
    return v;
  };
  const found = new Map<string, bigint>();
  for (const m of src.matchAll(/\b([A-Z][A-Z0-9]*) = k\((-?(?:0x)?[0-9a-f]+), (-?(?:0x)?[0-9a-f]+)(, 1)?\)/g))
    found.set(m[1]!, kOf(Number(m[2]), Number(m[3]), !!m[4]));
  assert.deepEqual([...found.keys()].sort(), Object.keys(want).sort(), "the driver's constants are exactly these");
  for (const [name, v] of Object.entries(want)) assert.equal(found.get(name), v, `${name} = 0x${v.toString(16)}`);
  // M' = −p⁻¹ mod 2^32, as the driver hands it to acquire().
  const mdash = /acquire\(P\.subarray\(0, 8\), (0x[0-9a-f]+), 1\)/.exec(src);
  assert.ok(mdash, "acquire(P.subarray(0, 8), M', mode 1)");
  assert.equal(BigInt(mdash[1]!), md(-egcdInv(p, 2n ** 32n), 2n ** 32n));
  assert.equal(md(p * BigInt(mdash[1]!) + 1n, 2n ** 32n), 0n, "p·M' ≡ −1 (mod 2^32)");
  // Why results need no final subtraction: slots hold values < 2^255, so a 3-slot X (< 2^767) times a 1-slot Z, or
  // 2 slots times 2, is below 2^1022 < R, and (X·Z + m·p)/R < 1 + p with m < R.
  assert.ok(2n ** 767n * 2n ** 255n < R && 2n ** 511n * 2n ** 511n < R);
});

test("self-test known answer: the short ladder (bits 7..0 of 184 on u = 9) equals a BigInt RFC 7748 ladder, in far fewer operations", () => {
  const p = 2n ** 255n - 19n, md = (x: bigint) => ((x % p) + p) % p;
  const pw = (b: bigint, e: bigint) => { let r = 1n; b = md(b); while (e) { if (e & 1n) r = md(r * b); b = md(b * b); e >>= 1n; } return r; };
  let x2 = 1n, z2 = 0n, x3 = 9n, z3 = 1n, swap = 0n;
  for (let t = 7; t >= 0; t--) {
    const kt = (184n >> BigInt(t)) & 1n; swap ^= kt;
    if (swap) { [x2, x3] = [x3, x2]; [z2, z3] = [z3, z2]; }
    swap = kt;
    const A = md(x2 + z2), AA = md(A * A), B = md(x2 - z2), BB = md(B * B), E = md(AA - BB), C = md(x3 + z3), D = md(x3 - z3), DA = md(D * A), CB = md(C * B);
    x3 = md((DA + CB) ** 2n); z3 = md(9n * md((DA - CB) ** 2n)); x2 = md(AA * BB); z2 = md(E * md(AA + 121665n * E));
  }
  if (swap) { x2 = x3; z2 = z3; }
  let v = md(x2 * pw(z2, p - 2n));
  const want = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) { want[i] = Number(v & 255n); v >>= 8n; }
  assert.match(fs.readFileSync(path.join(import.meta.dirname, "../../src/crypto/x25519-mpi.ts"), "utf8"), new RegExp(`var KAT = "${want.toString("hex")}"`));
  const { io, blk } = bench();
  const k = new Uint8Array(32); k[0] = 0xb8;
  let got = "";
  x25519Mpi(k, BASE_POINT, io, { topBit: 7 }, (r) => (got = toHex(r)), (w) => (got = "fail " + w));
  assert.equal(got, want.toString("hex"));
  assert.ok(blk.ops < 200, `${blk.ops} block operations (a whole X25519: 4,582)`);
});

test("self-test: a good block is used; a wrong or silent one selects the JS X25519 with a warning", () => {
  const k = hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), u = hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
  const want = "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957";
  for (const fault of ["none", "wrong", "stuck"] as const) {
    const { io, blk } = bench(fault), warnings: string[] = [];
    let jsCalls = 0;
    const js = (a: Uint8Array, b: Uint8Array, cb: (r: Uint8Array) => void) => { jsCalls++; cb(nacl.scalarMult(a, b)); };
    const mult = mpiScalarMult(io, {}, { i: () => {}, w: (m) => warnings.push(m) }, js);
    for (let i = 0; i < 2; i++) {
      let r = "";
      mult(k, u, (o) => (r = toHex(o)));
      assert.equal(r, want, `${fault}: call ${i}`);
    }
    if (fault === "none") {
      assert.deepEqual(warnings, []);
      assert.equal(jsCalls, 0);
    } else {
      assert.deepEqual(warnings, [fault === "wrong" ? "RSA accelerator self-test: wrong X25519, using JS X25519" : "RSA accelerator self-test: no answer, using JS X25519"]);
      assert.equal(jsCalls, 2, "both calls on the JS path");
      assert.equal(blk.clk & 4, 0, "the block is powered off again");
    }
  }
  // Failing after a good self-test: that computation is redone in JS and the block is not used again.
  const { io, blk } = bench(), warnings: string[] = [];
  let jsCalls = 0;
  const mult = mpiScalarMult(io, {}, { i: () => {}, w: (m) => warnings.push(m) }, (a, b, cb) => { jsCalls++; cb(nacl.scalarMult(a, b)); });
  mult(k, u, () => {});
  blk.fault = "stuck";
  let r = "";
  mult(k, u, (o) => (r = toHex(o)));
  assert.equal(r, want);
  assert.equal(jsCalls, 1);
  assert.deepEqual(warnings, ["RSA accelerator no answer, using JS X25519"]);
});

test("simulator: peek32/poke32 reach only modelled peripherals", () => {
  const d = device();
  assert.throws(() => d.evaluate("peek32(0x3FF00000)"), /no peripheral modelled at 0x3ff00000/);
  assert.throws(() => d.evaluate("poke32(0x60035144, 1)"), /no peripheral modelled/);
  assert.equal(typeof d.evaluate("peek32(0x60035144)"), "number");
  assert.equal(d.evaluate("peek32(0x3FF02818)"), 0, "RSA block clock off: reads 0");
});

test("simulator: Security 1 on the accelerator; a faulty block falls back to JS with an ESP-IDF style warning", async () => {
  const good = device();
  assert.equal((await provisionSim(good)).ok, true);
  assert.ok(good.rsa!.ops > 2 * 4000, "the self-test, key pair and shared secret ran on the block");
  assert.ok(!good.lines().some((l) => /^W .*RSA accelerator/.test(l)), good.lines().join("\n"));
  assert.ok(good.lines().some((l) => /^I \(\d+\) security1: X25519 on the RSA accelerator \(ESP32 chip revision 3\)$/.test(l)), "the path taken is logged");
  for (const fault of ["wrong", "stuck"] as const) {
    const d = device({ rsaFault: fault });
    assert.equal((await provisionSim(d)).ok, true, fault);
    assert.ok(d.lines().some((l) => /^W \(\d+\) security1: RSA accelerator self-test: .*, using JS X25519$/.test(l)), d.lines().join("\n"));
    assert.equal(d.rsa!.clk & 4, 0);
  }
});
