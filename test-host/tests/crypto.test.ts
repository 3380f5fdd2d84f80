// Standard vectors: RFC 7748 (X25519), NIST SP 800-38A F.5.5 (AES-256-CTR) through the project's
// keystream split at uneven message boundaries, FIPS 180 (SHA-256); tweetnacl as the X25519 oracle.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import nacl from "tweetnacl";
import { FieldOpsMaker, convolveJs, gatherJs, generatedOps, loopOps, rounding, x25519 } from "../../src/crypto/x25519";
import { sha256 } from "../../src/crypto/sha256";
import { aes256EncryptBlocks, aes256Expand } from "../../src/crypto/aes";
import { ctrStream } from "../../src/crypto/ctr";
import { hex, toHex } from "./helpers";

// Both field-code variants (generated straight-line code, the default; loops, the compact one) must agree to the bit.
const VARIANTS: [string, FieldOpsMaker][] = [["generated", generatedOps], ["loops", loopOps]];
for (const [variant, ops] of VARIANTS) {
const X = (k: Uint8Array, u: Uint8Array): Uint8Array => { let r: any; x25519(k, u, { ops, cv: convolveJs, gather: gatherJs }, (o) => (r = o)); return r; };

test(`X25519 (${variant}): RFC 7748 §5.2 vectors and the 1,000-iteration chain`, () => {
  assert.equal(toHex(X(hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))),
    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  assert.equal(toHex(X(hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))),
    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  let k: Uint8Array = hex("0900000000000000000000000000000000000000000000000000000000000000"), u: Uint8Array = k;
  for (let i = 1; i <= 1000; i++) { const r = X(k, u); u = k; k = r; if (i === 1) assert.equal(toHex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"); }
  assert.equal(toHex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
});

test(`X25519 (${variant}): RFC 7748 §6.1 Diffie-Hellman`, () => {
  const a = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), b = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const base = hex("09" + "00".repeat(31));
  assert.equal(toHex(X(a, base)), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  assert.equal(toHex(X(b, X(a, base))), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
});

}

test("X25519 rounding constants round to their limb's grid: Kt in [2^52, 2^53)·2^POS[t+1] with room for any carried sum", () => {
  const K = rounding().split(" ");
  assert.equal(K.length, 12);
  K.forEach((lit, t) => {
    const grid = 2 ** Math.ceil(255 * (t + 1) / 12), k = Number(lit);
    // A limb's sum is < 2^51 of its own weight (2^50.96 for Q) and the grid is ≥ 2^21 weights above it.
    assert.ok(k - 2 ** 31 * grid >= 2 ** 52 * grid && k + 2 ** 31 * grid < 2 ** 53 * grid, `K${t} = ${lit}`);
    assert.equal((1.5 * 2 ** 31 * grid + k) - k, 1.5 * 2 ** 31 * grid, `K${t} keeps multiples of the grid`);
    assert.equal((0.75 * grid + k) - k, grid, `K${t} rounds three quarters of the grid up`);
    assert.equal((-0.25 * grid + k) - k, 0, `K${t} rounds a quarter of the grid down`);
  });
});

for (const [variant, ops] of VARIANTS) {
const X = (k: Uint8Array, u: Uint8Array): Uint8Array => { let r: any; x25519(k, u, { ops, cv: convolveJs, gather: gatherJs }, (o) => (r = o)); return r; };

// 10,000 pairs for the default variant; 2,000 (a few seconds) for the compact one, whose arithmetic is the same.
const pairs = variant === "generated" ? 10000 : 2000;
test(`X25519 (${variant}) equals tweetnacl (the oracle) on ${pairs.toLocaleString("en")} random scalar/point pairs (seeded)`, () => {
  let seed = nodeCrypto.createHash("sha256").update("x25519-oracle").digest();
  for (let i = 0; i < pairs; i++) {
    seed = nodeCrypto.createHash("sha256").update(seed).digest();
    const k = seed.subarray(0, 32), u = nodeCrypto.createHash("sha256").update(seed).update("u").digest();
    assert.equal(toHex(X(k, u)), toHex(nacl.scalarMult(k, u)), `pair ${i}`);
  }
});

test(`X25519 (${variant}) in slices gives the same result through a deferring scheduler`, async () => {
  const k = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"), u = hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  let slices = 0;
  const r = await new Promise<Uint8Array>((res) => x25519(k, u, { ops, cv: convolveJs, gather: gatherJs, slice: 5, defer: (fn) => { slices++; setImmediate(fn); } }, res));
  assert.equal(toHex(r), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  assert.ok(slices > 50, `ran in ${slices} slices`);
});

test(`X25519 (${variant}) runs that overlap in slices (a new key pair while an old session's one ends) both stay right`, () => {
  const queue: (() => void)[] = [], defer = (fn: () => void) => { queue.push(fn); };
  const [k1, u1, k2, u2] = ["a", "b", "c", "d"].map((s) => nodeCrypto.createHash("sha256").update("overlap " + s).digest());
  let r1: Uint8Array | undefined, r2: Uint8Array | undefined;
  x25519(k1!, u1!, { ops, cv: convolveJs, gather: gatherJs, defer, slice: 3 }, (o) => (r1 = o));
  for (let i = 0; i < 20; i++) queue.shift()!();
  x25519(k2!, u2!, { ops, cv: convolveJs, gather: gatherJs, defer, slice: 5 }, (o) => (r2 = o));
  while (queue.length) queue.shift()!();
  assert.equal(toHex(r1!), toHex(nacl.scalarMult(k1!, u1!)));
  assert.equal(toHex(r2!), toHex(nacl.scalarMult(k2!, u2!)));
});
}

const NIST_KEY = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
const NIST_IV = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
const NIST_PT = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
const NIST_CT = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

test("NIST SP 800-38A F.5.5 AES-256-CTR through the keystream, split at uneven boundaries", () => {
  const w = aes256Expand(NIST_KEY);
  for (const splits of [[64], [1, 63], [7, 9, 16, 5, 27], [15, 1, 17, 31], [3, 3, 3, 55]]) {
    const s = ctrStream(NIST_IV, (b) => aes256EncryptBlocks(w, b));
    let off = 0, out = "";
    for (const n of splits) { out += toHex(s.update(NIST_PT.subarray(off, off + n))); off += n; }
    assert.equal(out, NIST_CT, `splits ${splits}`);
    assert.equal(s.offset(), 64);
  }
  // the same with Node's AES as the block function (the simulator's native-crypto path)
  const s2 = ctrStream(NIST_IV, (b) => { const c = nodeCrypto.createCipheriv("aes-256-ecb", NIST_KEY, null).setAutoPadding(false); b.set(c.update(b)); });
  assert.equal(toHex(s2.update(NIST_PT.subarray(0, 10))) + toHex(s2.update(NIST_PT.subarray(10))), NIST_CT);
  // counter carry across a byte boundary
  const iv = hex("000000000000000000000000000000ff"), ks = ctrStream(iv, (b) => aes256EncryptBlocks(w, b)).update(new Uint8Array(48));
  const ref = nodeCrypto.createCipheriv("aes-256-ctr", NIST_KEY, iv).update(new Uint8Array(48));
  assert.equal(toHex(ks), ref.toString("hex"));
});

test("FIPS 180 SHA-256", () => {
  assert.equal(toHex(sha256(Buffer.from("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(toHex(sha256(new Uint8Array(0))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(toHex(sha256(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  for (let n = 0; n < 200; n += 7) {
    const m = nodeCrypto.randomBytes(n);
    assert.equal(toHex(sha256(m)), nodeCrypto.createHash("sha256").update(m).digest("hex"));
  }
});
