/**
 * Pure-TypeScript SHA-512 (FIPS 180-4 §6.4), for Security 2's SRP6a (ESP-IDF esp_srp.c hashes with SHA-512).
 * The stock ESP32 Espruino build has no SHA-512, so this runs in the interpreter.
 *
 * 64-bit words are kept as two 32-bit halves (hi, lo): Espruino's numbers are doubles and its bit operators
 * work on 32 bits. Sums of low halves are taken as unsigned doubles (exact below 2^53) and their carry, the
 * quotient by 2^32, goes into the high half; `| 0` then wraps each half to 32 bits as sha256.ts relies on.
 * Message schedule and state are Int32Arrays of interleaved halves: W[2t] is the high half of W_t.
 */

/**
 * The 80 round constants as one hex string (hi then lo of each), decoded per call into an Int32Array:
 * a string of 1,280 characters is held compactly by Espruino, where an array literal of 160 doubles would
 * cost a JsVar or more per element while it is built.
 */
var KHEX =
  "428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b53859f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118" +
  "d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e272be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694" +
  "e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c652de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5" +
  "983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa72506ca6351e003826f142929670a0e6e70" +
  "27b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353b" +
  "a2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b8" +
  "19a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373682e6ff3d6b2b8a3" +
  "748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532b" +
  "ca273eceea26619cd186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b" +
  "28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817";

function words(hex: string): Int32Array {
  var w = new Int32Array(hex.length >> 3);
  for (var i = 0; i < w.length; i++) w[i] = parseInt(hex.substr(i * 8, 8), 16) | 0;
  return w;
}

/** SHA-512 of `msg`; 64-byte digest. */
export function sha512(msg: Uint8Array): Uint8Array {
  // Initial hash value H(0) (FIPS 180-4 §5.3.5).
  var H = words("6a09e667f3bcc908bb67ae8584caa73b3c6ef372fe94f82ba54ff53a5f1d36f1510e527fade682d19b05688c2b3e6c1f1f83d9abfb41bd6b5be0cd19137e2179");
  var K = words(KHEX), W = new Int32Array(160);
  var n = msg.length, total = ((n + 17 + 127) >> 7) << 7;
  var p = new Uint8Array(total), i, t, j;
  p.set(msg);
  p[n] = 0x80;
  // 128-bit big-endian bit length: 8·n < 2^53, so the top 64 bits beyond 2^53 stay 0.
  var lo = (n * 8) % 4294967296, hi = Math.floor(n / 536870912);
  for (i = 0; i < 4; i++) {
    p[total - 1 - i] = (lo >>> (8 * i)) & 255;
    p[total - 5 - i] = (hi >>> (8 * i)) & 255;
  }
  for (var off = 0; off < total; off += 128) {
    for (i = 0; i < 32; i++) {
      j = off + i * 4;
      W[i] = (p[j]! << 24) | (p[j + 1]! << 16) | (p[j + 2]! << 8) | p[j + 3]!;
    }
    for (t = 32; t < 160; t += 2) {
      // σ0(W_{t-15}) = ROTR1 ^ ROTR8 ^ SHR7; σ1(W_{t-2}) = ROTR19 ^ ROTR61 ^ SHR6.
      var xh = W[t - 30]!, xl = W[t - 29]!;
      var s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      var s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      xh = W[t - 4]!; xl = W[t - 3]!;
      var s1h = ((xh >>> 19) | (xl << 13)) ^ ((xl >>> 29) | (xh << 3)) ^ (xh >>> 6);
      var s1l = ((xl >>> 19) | (xh << 13)) ^ ((xh >>> 29) | (xl << 3)) ^ ((xl >>> 6) | (xh << 26));
      lo = (W[t - 31]! >>> 0) + (s0l >>> 0) + (W[t - 13]! >>> 0) + (s1l >>> 0);
      W[t + 1] = lo | 0;
      W[t] = (W[t - 32]! + s0h + W[t - 14]! + s1h + ((lo / 4294967296) | 0)) | 0;
    }
    var ah = H[0]!, al = H[1]!, bh = H[2]!, bl = H[3]!, ch = H[4]!, cl = H[5]!, dh = H[6]!, dl = H[7]!;
    var eh = H[8]!, el = H[9]!, fh = H[10]!, fl = H[11]!, gh = H[12]!, gl = H[13]!, hh = H[14]!, hl = H[15]!;
    for (t = 0; t < 160; t += 2) {
      // T1 = h + Σ1(e) + Ch(e,f,g) + K_t + W_t, Σ1 = ROTR14 ^ ROTR18 ^ ROTR41.
      lo = (hl >>> 0) +
        ((((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23))) >>> 0) +
        (((el & fl) ^ (~el & gl)) >>> 0) + (K[t + 1]! >>> 0) + (W[t + 1]! >>> 0);
      var t1h = (hh + (((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23))) +
        ((eh & fh) ^ (~eh & gh)) + K[t]! + W[t]! + ((lo / 4294967296) | 0)) | 0;
      var t1l = lo | 0;
      // T2 = Σ0(a) + Maj(a,b,c), Σ0 = ROTR28 ^ ROTR34 ^ ROTR39.
      lo = ((((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25))) >>> 0) +
        (((al & bl) ^ (al & cl) ^ (bl & cl)) >>> 0);
      var t2h = ((((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25))) +
        ((ah & bh) ^ (ah & ch) ^ (bh & ch)) + ((lo / 4294967296) | 0)) | 0;
      var t2l = lo | 0;
      hh = gh; hl = gl; gh = fh; gl = fl; fh = eh; fl = el;
      lo = (dl >>> 0) + (t1l >>> 0);
      eh = (dh + t1h + ((lo / 4294967296) | 0)) | 0; el = lo | 0;
      dh = ch; dl = cl; ch = bh; cl = bl; bh = ah; bl = al;
      lo = (t1l >>> 0) + (t2l >>> 0);
      ah = (t1h + t2h + ((lo / 4294967296) | 0)) | 0; al = lo | 0;
    }
    add(H, 0, ah, al); add(H, 2, bh, bl); add(H, 4, ch, cl); add(H, 6, dh, dl);
    add(H, 8, eh, el); add(H, 10, fh, fl); add(H, 12, gh, gl); add(H, 14, hh, hl);
  }
  var out = new Uint8Array(64);
  for (i = 0; i < 16; i++) {
    out[i * 4] = H[i]! >>> 24; out[i * 4 + 1] = H[i]! >>> 16; out[i * 4 + 2] = H[i]! >>> 8; out[i * 4 + 3] = H[i]!;
  }
  return out;
}

/** H[i..i+1] += (xh, xl) modulo 2^64. */
function add(H: Int32Array, i: number, xh: number, xl: number) {
  var lo = (H[i + 1]! >>> 0) + (xl >>> 0);
  H[i + 1] = lo | 0;
  H[i] = (H[i]! + xh + ((lo / 4294967296) | 0)) | 0;
}
