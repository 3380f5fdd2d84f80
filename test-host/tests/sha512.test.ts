// SHA-512 (Security 2's hash) against FIPS 180-4 example vectors (NIST CSRC "SHA512.pdf" examples and the
// long-message vector of FIPS 180-2 Appendix C.3) and against node:crypto around the 128-byte block boundary,
// where the 17 bytes of padding and length decide whether one more block follows.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { sha512 } from "../../src/crypto/sha512";
import { toHex } from "./helpers";

test("SHA-512: FIPS 180-4 vectors (empty, \"abc\", the 896-bit message, 1,000,000 × 'a')", () => {
  assert.equal(toHex(sha512(new Uint8Array(0))),
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  assert.equal(toHex(sha512(Buffer.from("abc"))),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  assert.equal(toHex(sha512(Buffer.from("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))),
    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  assert.equal(toHex(sha512(new Uint8Array(1000000).fill(0x61))),
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
});

test("SHA-512 equals node:crypto on random messages of every length 0..300 and around each block boundary up to 1 KiB", () => {
  const lengths: number[] = [];
  for (let n = 0; n <= 300; n++) lengths.push(n);
  for (let b = 384; b <= 1024; b += 128) for (let d = -18; d <= 2; d++) lengths.push(b + d);
  lengths.push(768 + 384, 3 * 384 + 64); // SRP-sized inputs: M's hash input, PAD(A)‖PAD(B)
  for (const n of lengths) {
    const m = nodeCrypto.randomBytes(n);
    assert.equal(toHex(sha512(m)), nodeCrypto.createHash("sha512").update(m).digest("hex"), `length ${n}`);
  }
});

test("SHA-512 of bytes with every high bit set (sign of the 32-bit halves)", () => {
  const m = new Uint8Array(256).fill(0xff);
  assert.equal(toHex(sha512(m)), nodeCrypto.createHash("sha512").update(m).digest("hex"));
});
