/**
 * Pure-TypeScript SHA-256 (FIPS 180-4). The device uses Espruino's native `crypto.SHA256`; this is the
 * fallback for boards whose firmware is built without `crypto` (board file `"crypto": false`).
 */
/** The round constants, built per call: a resident array of 64 doubles would hold ≈ 130 JsVars on Espruino. */
function roundConstants() {
  return new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
}

function rotr(x: number, n: number) {
  return (x >>> n) | (x << (32 - n));
}

/** SHA-256 of `msg`; 32-byte digest. */
export function sha256(msg: Uint8Array): Uint8Array {
  var H = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  var n = msg.length, total = ((n + 9 + 63) >> 6) << 6;
  var p = new Uint8Array(total);
  p.set(msg);
  p[n] = 0x80;
  var bits = n * 8;
  for (var i = 0; i < 4; i++) p[total - 1 - i] = (bits >>> (8 * i)) & 255;
  var W = new Int32Array(64), K = roundConstants();
  for (var off = 0; off < total; off += 64) {
    for (i = 0; i < 16; i++) {
      var j = off + i * 4;
      W[i] = (p[j]! << 24) | (p[j + 1]! << 16) | (p[j + 2]! << 8) | p[j + 3]!;
    }
    for (i = 16; i < 64; i++) {
      var w15 = W[i - 15]!, w2 = W[i - 2]!;
      var s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      var s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
    }
    var a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
    for (i = 0; i < 64; i++) {
      var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
      var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    H[0] = H[0]! + a; H[1] = H[1]! + b; H[2] = H[2]! + c; H[3] = H[3]! + d;
    H[4] = H[4]! + e; H[5] = H[5]! + f; H[6] = H[6]! + g; H[7] = H[7]! + h;
  }
  var out = new Uint8Array(32);
  for (i = 0; i < 8; i++) {
    out[i * 4] = H[i]! >>> 24; out[i * 4 + 1] = H[i]! >>> 16; out[i * 4 + 2] = H[i]! >>> 8; out[i * 4 + 3] = H[i]!;
  }
  return out;
}
