/**
 * AES-256-GCM (NIST SP 800-38D) without additional data, as Security 2 uses it (ESP-IDF
 * v5.5 components/protocomm/src/security/security2.c:485-492 and 534-536: mbedtls_gcm_crypt_and_tag /
 * mbedtls_gcm_auth_decrypt with a 12-byte IV, no AAD and the 16-byte tag appended to the ciphertext). The stock ESP32 Espruino build has no GCM, so GHASH runs in JS.
 *
 * GHASH multiplies by H with Shoup's 4-bit tables as mbedtls does (library/gcm.c gcm_gen_table / gcm_mult):
 * 16 multiples of H plus the 16 reduction constants in one Int32Array of 80 words (320 bytes, made per call), and
 * 32 table steps per block instead of the 128 conditional shifts of the bitwise multiply (SP 800-38D
 * Algorithm 1). Measured in Espruino 2v29 (callgrind, minified): ≈ 7.5 M instructions per 16 bytes for GHASH
 * and the counter-mode XOR together (≈ 27 M with the bitwise multiply instead), whose only saving is the table's
 * ≈ 20 JsVars for the length of one call. The JS AES costs ≈ 54 M per block on top: where the board has
 * Espruino's native AES, pass its ECB to gcmSealWith / gcmOpenWith instead.
 * Blocks are 4 big-endian 32-bit words, w0 = bytes 0..3; GCM's "right shift" moves bits towards byte 15.
 */
import { aes256EncryptBlocks } from "./aes";
import type { BlockEncrypt } from "./ctr";

/** Bytes of the authentication tag (Security 2 uses the full 128 bits). */
export var GCM_TAG = 16;

function be32(b: Uint8Array, i: number) {
  return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
}

/** The 4-bit multiplication table of H = E_K(0^128) (gcm_gen_table): words 4n..4n+3 are n·H, 64..79 the reduction. */
function ghashTable(enc: BlockEncrypt): Int32Array {
  var h = new Uint8Array(16), T = new Int32Array(80), i, j, k;
  enc(h);
  var v0 = be32(h, 0), v1 = be32(h, 4), v2 = be32(h, 8), v3 = be32(h, 12);
  // Entry 8 (nibble 1000b, the lowest degree first) is H; entries 4, 2, 1 are H·x, H·x², H·x³.
  for (i = 8; i > 0; i >>= 1) {
    T[4 * i] = v0; T[4 * i + 1] = v1; T[4 * i + 2] = v2; T[4 * i + 3] = v3;
    var c = v3 & 1;
    v3 = (v3 >>> 1) | (v2 << 31); v2 = (v2 >>> 1) | (v1 << 31); v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (c ? 0xe1000000 : 0);
  }
  for (i = 2; i <= 8; i *= 2) for (j = 1; j < i; j++) for (k = 0; k < 4; k++) T[4 * (i + j) + k] = T[4 * i + k]! ^ T[4 * j + k]!;
  // What the 4 bits shifted out of w3 fold back into w0 (mbedtls' last4[], here above bit 16).
  for (i = 0; i < 16; i++) T[64 + i] = ((i & 1 ? 0x1c20 : 0) ^ (i & 2 ? 0x3840 : 0) ^ (i & 4 ? 0x7080 : 0) ^ (i & 8 ? 0xe100 : 0)) << 16;
  return T;
}

/** y ← (y ⊕ x[o..o+15])·H (gcm_mult): nibbles from the last byte's low one to the first byte's high one. */
function mulH(y: Uint8Array, T: Int32Array, x: Uint8Array, o: number) {
  var z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  for (var i = 15; i >= 0; i--) {
    var b = y[i]! ^ x[o + i]!, n = (b & 15) << 2, r = z3 & 15;
    z3 = ((z3 >>> 4) | (z2 << 28)) ^ T[n + 3]!;
    z2 = ((z2 >>> 4) | (z1 << 28)) ^ T[n + 2]!;
    z1 = ((z1 >>> 4) | (z0 << 28)) ^ T[n + 1]!;
    z0 = (z0 >>> 4) ^ T[64 + r]! ^ T[n]!;
    n = (b >> 4) << 2; r = z3 & 15;
    z3 = ((z3 >>> 4) | (z2 << 28)) ^ T[n + 3]!;
    z2 = ((z2 >>> 4) | (z1 << 28)) ^ T[n + 2]!;
    z1 = ((z1 >>> 4) | (z0 << 28)) ^ T[n + 1]!;
    z0 = (z0 >>> 4) ^ T[64 + r]! ^ T[n]!;
  }
  y[0] = z0 >>> 24; y[1] = z0 >>> 16; y[2] = z0 >>> 8; y[3] = z0;
  y[4] = z1 >>> 24; y[5] = z1 >>> 16; y[6] = z1 >>> 8; y[7] = z1;
  y[8] = z2 >>> 24; y[9] = z2 >>> 16; y[10] = z2 >>> 8; y[11] = z2;
  y[12] = z3 >>> 24; y[13] = z3 >>> 16; y[14] = z3 >>> 8; y[15] = z3;
}

/** GHASH of `data` zero-padded to whole blocks, then the length block 0^64 ‖ [8·len]_64, into a fresh y. */
function ghash(T: Int32Array, data: Uint8Array): Uint8Array {
  var y = new Uint8Array(16), n = data.length, off = 0, last = new Uint8Array(16);
  for (; off + 16 <= n; off += 16) mulH(y, T, data, off);
  if (off < n) {
    last.set(data.subarray(off));
    mulH(y, T, last, 0);
  }
  // 8·n < 2^53: low 32 bits and the bits above them.
  var lo = (n * 8) % 4294967296, hi = Math.floor(n / 536870912);
  for (var k = 0; k < 4; k++) {
    last[15 - k] = lo >>> (8 * k);
    last[11 - k] = hi >>> (8 * k);
    last[7 - k] = last[3 - k] = 0;
  }
  mulH(y, T, last, 0);
  return y;
}

/** The pre-counter block J0 (SP 800-38D §7.1 step 2): IV ‖ 0^31 ‖ 1 for 96-bit IVs, else GHASH of the IV. */
function preCounter(T: Int32Array, iv: Uint8Array): Uint8Array {
  if (!iv.length) throw new Error("gcm: the IV must not be empty");
  if (iv.length === 12) {
    var j0 = new Uint8Array(16);
    j0.set(iv);
    j0[15] = 1;
    return j0;
  }
  return ghash(T, iv);
}

/** inc32: the last 32 bits of the counter block + 1 mod 2^32, the first 96 bits unchanged. */
function inc32(c: Uint8Array) {
  for (var i = 15; i >= 12; i--) if ((c[i] = (c[i]! + 1) & 255)) break;
}

/**
 * GCTR from inc32(J0) over `data` (SP 800-38D §6.5), keystream made 4 blocks at a time and XORed a word at a time
 * (a fresh buffer rounded up to whole words: the bytes past the end take keystream and are not returned).
 */
function gctr(enc: BlockEncrypt, j0: Uint8Array, data: Uint8Array): Uint8Array {
  var n = data.length, out = new Uint8Array((n + 3) & ~3), cb = new Uint8Array(j0), ks = new Uint8Array(64),
    o = new Int32Array(out.buffer), k = new Int32Array(ks.buffer);
  out.set(data);
  for (var off = 0; off < n; off += 64) {
    for (var b = 0; b < 64; b += 16) {
      inc32(cb);
      ks.set(cb, b);
    }
    enc(ks);
    for (var i = 0, w = off >> 2; i < 16 && w < o.length; i++, w++) o[w] = o[w]! ^ k[i]!;
  }
  return out.subarray(0, n);
}

/** The tag: E_K(J0) ⊕ GHASH(C). */
function tag(enc: BlockEncrypt, T: Int32Array, j0: Uint8Array, ct: Uint8Array): Uint8Array {
  var s = ghash(T, ct), e = new Uint8Array(j0);
  enc(e);
  for (var i = 0; i < 16; i++) s[i] = s[i]! ^ e[i]!;
  return s;
}

/** Encrypts `pt` under the block function `enc` (the key's ECB) and IV `iv` (any length ≥ 1); ciphertext ‖ tag. */
export function gcmSealWith(enc: BlockEncrypt, iv: Uint8Array, pt: Uint8Array): Uint8Array {
  var T = ghashTable(enc), j0 = preCounter(T, iv), ct = gctr(enc, j0, pt), out = new Uint8Array(pt.length + GCM_TAG);
  out.set(ct);
  out.set(tag(enc, T, j0, ct), pt.length);
  return out;
}

/** Checks the tag (in constant time) and decrypts; null if the tag is wrong or the payload is shorter than a tag. */
export function gcmOpenWith(enc: BlockEncrypt, iv: Uint8Array, ctAndTag: Uint8Array): Uint8Array | null {
  var n = ctAndTag.length - GCM_TAG;
  if (n < 0) return null;
  var T = ghashTable(enc), j0 = preCounter(T, iv), ct = ctAndTag.subarray(0, n), t = tag(enc, T, j0, ct), diff = 0;
  for (var i = 0; i < GCM_TAG; i++) diff |= t[i]! ^ ctAndTag[n + i]!;
  return diff ? null : gctr(enc, j0, ct);
}

/** AES-256-GCM seal with the JS AES: `w` is aes256Expand(key). Returns ciphertext ‖ 16-byte tag. */
export function gcmSeal(w: Uint8Array, iv: Uint8Array, pt: Uint8Array): Uint8Array {
  return gcmSealWith(function (b) { aes256EncryptBlocks(w, b); }, iv, pt);
}

/** AES-256-GCM open with the JS AES: `w` is aes256Expand(key). The plaintext, or null on a bad tag / short payload. */
export function gcmOpen(w: Uint8Array, iv: Uint8Array, ctAndTag: Uint8Array): Uint8Array | null {
  return gcmOpenWith(function (b) { aes256EncryptBlocks(w, b); }, iv, ctAndTag);
}
