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
import { RsaBlock, RSA_BASE, DPORT_CLK_EN, DPORT_RST_EN, DPORT_RSA_PD } from "../sim/rsa";
import { device, provisionSim, hex, toHex } from "./helpers";

/** peek32/poke32 on a bare RSA block model, as the simulator wires them. */
function bench(fault: RsaBlock["fault"] = "none") {
  const blk = new RsaBlock();
  blk.fault = fault;
  const io: MpiIo = {
    rsa: RSA_BASE, dport: 0x3ff00000,
    peek: (a, n) => {
      if (!n || n <= 1) return blk.read(a);
      const o = new Uint32Array(n);
      for (let i = 0; i < n; i++) o[i] = blk.read(a + 4 * i);
      return o;
    },
    poke: (a, v) => {
      if (typeof v === "number") blk.write(a, v);
      else for (let i = 0; i < v.length; i++) blk.write(a + 4 * i, v[i]!);
    },
  };
  return { blk, io };
}

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
  blk.rst = 0xffffffff;
  blk.pd = 1;
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

test("the constants in x25519-mpi.ts are p, R mod p, R² mod p, −R/38, −486662·R, 4R, −4R/38 and p − 2 (R = 2^1024)", () => {
  const p = (1n << 255n) - 19n, R = 1n << 1024n, md = (x: bigint) => ((x % p) + p) % p;
  const inv = (a: bigint) => { let r = 1n, b = md(a), e = p - 2n; for (; e; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p; return r; };
  const src = fs.readFileSync(new URL("../../src/crypto/x25519-mpi.ts", import.meta.url), "utf8");
  const words = (x: bigint) => [Number(x & 0xffffffffn) | 0, Number((x >> 32n) & 0xffffffffn) | 0];
  const lit = (x: bigint, hi: boolean) => {
    const [a, b] = words(x), f = (n: number) => (!hi && n > 0 ? "0x" + n.toString(16) : String(n));
    return `k(${f(a!)}, ${f(b!)}${hi ? ", 1" : ""})`;
  };
  for (const [name, v, hi] of [["P", p, true], ["ONE", md(R), false], ["R2", md(R * R), false], ["NEG", md(-inv(38n) * R), true],
    ["NA", md(-486662n * R), true], ["FOUR", md(4n * R), false], ["NEG4", md(-4n * inv(38n) * R), true], ["PM2", p - 2n, true]] as const) {
    assert.ok(src.includes(`${name} = ${lit(v, hi)}`), `${name} = ${lit(v, hi)}`);
    if (hi) assert.equal(v >> 64n, p >> 64n, `${name}'s words 2..7 are p's`);
    else assert.equal(v >> 64n, 0n, `${name} fits two words`);
  }
  let x = 1n; // −p⁻¹ mod 2^32 by Newton iteration
  for (let i = 0; i < 6; i++) x = (x * (2n - p * x)) & 0xffffffffn;
  assert.ok(src.includes("0x" + ((1n << 32n) - x).toString(16)), "M' = −p⁻¹ mod 2^32");
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
  assert.ok(blk.ops < 200, `${blk.ops} block operations (a whole X25519: 4,331)`);
});

test("self-test: a good block is used; a wrong or silent one selects the JS X25519 with a warning", () => {
  const k = hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), u = hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
  const want = "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957";
  for (const fault of ["none", "wrong", "stuck"] as const) {
    const { io, blk } = bench(fault), warnings: string[] = [];
    let jsCalls = 0;
    const js = (a: Uint8Array, b: Uint8Array, cb: (r: Uint8Array) => void) => { jsCalls++; cb(nacl.scalarMult(a, b)); };
    const mult = mpiScalarMult(io, {}, { w: (m) => warnings.push(m) }, js);
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
  const mult = mpiScalarMult(io, {}, { w: (m) => warnings.push(m) }, (a, b, cb) => { jsCalls++; cb(nacl.scalarMult(a, b)); });
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
  assert.throws(() => d.evaluate("poke32(0x3FF75144, 1)"), /no peripheral modelled/);
  assert.equal(typeof d.evaluate("peek32(0x3FF75144)"), "number");
  assert.equal(d.evaluate("peek32(0x3FF02818)"), 0, "RSA block clock off: reads 0");
});

test("simulator: Security 1 on the accelerator; a faulty block falls back to JS with an ESP-IDF style warning", async () => {
  const good = device();
  assert.equal((await provisionSim(good)).ok, true);
  assert.ok(good.rsa!.ops > 2 * 4000, "the self-test, key pair and shared secret ran on the block");
  assert.ok(!good.lines().some((l) => /RSA accelerator/.test(l)), good.lines().join("\n"));
  for (const fault of ["wrong", "stuck"] as const) {
    const d = device({ rsaFault: fault });
    assert.equal((await provisionSim(d)).ok, true, fault);
    assert.ok(d.lines().some((l) => /^W \(\d+\) security1: RSA accelerator self-test: .*, using JS X25519$/.test(l)), d.lines().join("\n"));
    assert.equal(d.rsa!.clk & 4, 0);
  }
});
