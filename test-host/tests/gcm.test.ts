// AES-256-GCM (Security 2's session cipher, no AAD) against published vectors and node:crypto:
// - the GCM specification's AES-256 test cases 13–15 (McGrew & Viega, "The Galois/Counter Mode of Operation",
//   Appendix B; 96-bit IVs, empty and non-empty plaintext);
// - NIST CAVP gcmEncryptExtIV256 cases with 128-bit IVs (the J0 = GHASH(IV) path) and no AAD, as Mbed TLS ships
//   them (tests/suites/test_suite_gcm.aes256_en.data, "AES-GCM NIST Validation (AES-256,128,…,0,…)"); tags
//   shorter than 128 bits there are the leading bytes of the full tag (SP 800-38D §7.1 MSB_t);
// - node:crypto aes-256-gcm on random keys, IVs of 1..64 bytes and plaintexts around block boundaries;
// - refusals: a flipped bit anywhere, a truncated payload, a payload shorter than a tag, the wrong IV.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { aes256Expand } from "../../src/crypto/aes";
import { gcmOpen, gcmSeal } from "../../src/crypto/gcm";
import { hex, toHex } from "./helpers";

const VECTORS: { name: string; key: string; iv: string; pt: string; ct: string; tag: string }[] = [
  { name: "GCM spec test case 13 (empty plaintext)", key: "00".repeat(32), iv: "00".repeat(12), pt: "", ct: "", tag: "530f8afbc74536b9a963b4f1c4cb738b" },
  { name: "GCM spec test case 14", key: "00".repeat(32), iv: "00".repeat(12), pt: "00".repeat(16), ct: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919" },
  { name: "GCM spec test case 15", key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", iv: "cafebabefacedbaddecaf888",
    pt: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    ct: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad", tag: "b094dac5d93471bdec1a502270e3cc6c" },
  { name: "CAVP (AES-256,128,0,0,128) #0 (empty plaintext, 128-bit IV)", key: "fb8094dd2eddb3d8004bb79134023ca2be4de9b668a9e4608abdf2130e8becb8",
    iv: "491a14e13b591cf2f39da96b6882b5e5", pt: "", ct: "", tag: "80883f2c925434a5edfcefd5b123d520" },
  { name: "CAVP (AES-256,128,1024,0,112) #1", key: "18c5105a9651144ce965b4270398b982120b885850114571ef8e2cbc5d2f5e04", iv: "a3a5f82748acc887e33328fd7f4ce1fd",
    pt: "00c5ea3d91248bfe30c5a6d26dbdf0609f977afcfa842b603c1061b2a473c9a79b421b2509550309e4be9c5015c51c6def9ee68c242f6e206b3027ce8e58b7ab96aaa50ced1d78c2dfcbc2589575bec2ce3b6a5066276fe7dca4f1118808d1e5cac062667053c15350289da03cd073377c2d66c01e3098ed01b75788c7e1f9e7",
    ct: "d91ed6886a269dc1eb0745dc4b97fc54cbea5e6857d10a303a3caf828b4e0e20bb742bca17021b7852d09a6d7d3a56ad82298c15a2082fed0e0e326bb16dd677ee262ead93a24147de3c07eb8a95b108abf17357155f1de79171689407b6545c9fdf8ab4486576490430c0e043e21e7c40ce88e752cb006cb3c59479a7e56cf7",
    tag: "add4e086d612a119c6aae46ba9e5" },
  { name: "CAVP (AES-256,128,1024,0,96) #0", key: "4d540e0ba27103667eb4511ce9d243592bccb8515ab59896c9922cb5f1b47a02", iv: "a2ed37daa797522a39b01dd206d06514",
    pt: "d79f9b1c74e3141f188704c8d5bdaaf6083642be50d00f20c97b56646863895250d131e00db0ecf4f035d42f08cfe20f401c2d3062a38daa0b9e7c19fa7c5d344680aff48d506daa181451f6b34ed9099b9a5b39c0166e93ac4463c9ad51f48e3063b1c16793615336f55d516d079f6c510c2891b97aaa95e5f621e3b5202620",
    ct: "6a891bd289ec05990424a2775287f4725aecefe1ab21fa0ca643f37829cae9fcbbf805b883f807102ff12f1a85964df818057daedd41c7349ef32b24642186c45d2858c3260d5b90594969e26b691963ac7fbd2eb4eef466ae690ca274d9194dfc4df1c3baec02abc38fbfc0e2c7c4fcafed227d4f6607329f57ee439435c714",
    tag: "9074ecf66bbd582318495158" },
];

for (const v of VECTORS) {
  test(`AES-256-GCM: ${v.name}`, () => {
    const w = aes256Expand(hex(v.key)), out = gcmSeal(w, hex(v.iv), hex(v.pt));
    const n = v.pt.length / 2;
    assert.equal(toHex(out.subarray(0, n)), v.ct);
    assert.equal(toHex(out.subarray(n, n + v.tag.length / 2)), v.tag);
    assert.equal(toHex(gcmOpen(w, hex(v.iv), out)!), v.pt);
  });
}

const nodeSeal = (key: Uint8Array, iv: Uint8Array, pt: Uint8Array) => {
  const c = nodeCrypto.createCipheriv("aes-256-gcm", key, iv);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
};

test("AES-256-GCM equals node:crypto on random keys, IVs of 1..64 bytes and plaintexts of 0..100 and around 64-byte chunks", () => {
  const lengths = [...Array(101).keys(), 127, 128, 129, 191, 192, 193, 255, 256, 257, 1000, 1500];
  let i = 0;
  for (const n of lengths) {
    const key = nodeCrypto.randomBytes(32), iv = nodeCrypto.randomBytes(i++ % 5 === 0 ? 1 + (i % 64) : 12), pt = nodeCrypto.randomBytes(n);
    const w = aes256Expand(key), sealed = gcmSeal(w, iv, pt);
    assert.equal(toHex(sealed), nodeSeal(key, iv, pt).toString("hex"), `pt ${n} bytes, iv ${iv.length} bytes`);
    assert.equal(toHex(gcmOpen(w, iv, sealed)!), pt.toString("hex"));
  }
});

// GF(2^128) as GCM writes it (SP 800-38D §6.3, Algorithm 1): the block's first bit is the coefficient of x^0.
const R = 0xe1n << 120n;
const gmul = (x: bigint, y: bigint) => {
  let z = 0n, v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
};
const big = (b: Uint8Array) => BigInt("0x" + (toHex(b) || "0"));
const bytes16 = (v: bigint) => hex(v.toString(16).padStart(32, "0"));

test("AES-256-GCM: the 32-bit counter wraps to 0 without carrying into the first 96 bits (inc32, SP 800-38D §6.2)", () => {
  // A 16-byte IV chosen so that J0 = GHASH_H(IV) = ((IV·H) ⊕ L)·H ends in ff ff ff fe (L = [0]_64 ‖ [128]_64):
  // IV = ((J0·H⁻¹) ⊕ L)·H⁻¹, with H⁻¹ = H^(2^128 − 2). Four blocks then use counters …ffffffff, …00000000, …
  const key = nodeCrypto.randomBytes(32), e = nodeCrypto.createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const H = big(e.update(new Uint8Array(16)));
  let inv = 1n << 127n, p = H; // the block 80 00 … 00 is the polynomial 1
  for (let k = 1; k < 128; k++) { p = gmul(p, p); inv = gmul(inv, p); } // H^(2+4+…+2^127) = H^(2^128 − 2)
  assert.equal(gmul(inv, H), 1n << 127n, "H·H⁻¹ = 1");
  const j0 = (big(nodeCrypto.randomBytes(12)) << 32n) | 0xfffffffen;
  const iv = bytes16(gmul(gmul(j0, inv) ^ 128n, inv));
  assert.equal(gmul(gmul(big(iv), H) ^ 128n, H), j0);
  const pt = nodeCrypto.randomBytes(64);
  assert.equal(toHex(gcmSeal(aes256Expand(key), iv, pt)), nodeSeal(key, iv, pt).toString("hex"));
});

test("AES-256-GCM refuses a flipped bit in ciphertext or tag, a truncated or short payload and the wrong IV", () => {
  const key = nodeCrypto.randomBytes(32), iv = nodeCrypto.randomBytes(12), pt = nodeCrypto.randomBytes(45);
  const w = aes256Expand(key), sealed = gcmSeal(w, iv, pt);
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const bad = Uint8Array.from(sealed);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(gcmOpen(w, iv, bad), null, `bit ${bit} flipped`);
  }
  for (let n = 0; n < sealed.length; n++) assert.equal(gcmOpen(w, iv, sealed.subarray(0, n)), null, `truncated to ${n}`);
  const iv2 = Uint8Array.from(iv); iv2[11]! ^= 1;
  assert.equal(gcmOpen(w, iv2, sealed), null, "wrong IV");
  assert.equal(toHex(gcmOpen(w, iv, gcmSeal(w, iv, new Uint8Array(0)))!), "", "empty plaintext round trip");
  assert.throws(() => gcmSeal(w, new Uint8Array(0), pt), /IV must not be empty/);
});
