/**
 * Pure-TypeScript AES-256 block encryption (FIPS 197), encryption direction only: CTR mode never needs
 * the inverse cipher. The device uses Espruino's native `crypto.AES` in ECB mode instead; this is the
 * fallback for boards without `crypto`.
 */
var SBOX: Uint8Array | undefined;

function sbox(): Uint8Array {
  if (SBOX) return SBOX;
  // Generate the S-box from GF(2^8) inverses instead of shipping a 256-byte table.
  var s = new Uint8Array(256), p = 1, q = 1;
  do {
    p = p ^ ((p << 1) & 255) ^ (p & 128 ? 0x1b : 0);
    q ^= q << 1; q ^= q << 2; q ^= q << 4; q &= 255;
    if (q & 128) q ^= 0x09;
    var x = q ^ ((q << 1) | (q >> 7)) ^ ((q << 2) | (q >> 6)) ^ ((q << 3) | (q >> 5)) ^ ((q << 4) | (q >> 4));
    s[p] = (x ^ 0x63) & 255;
  } while (p !== 1);
  s[0] = 0x63;
  return (SBOX = s);
}

function xtime(b: number) {
  return ((b << 1) ^ (b & 128 ? 0x1b : 0)) & 255;
}

/** Expands a 32-byte key into 15 round keys (240 bytes). */
export function aes256Expand(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new Error("aes: key must be 32 bytes, got " + key.length);
  var S = sbox(), w = new Uint8Array(240), rcon = 1;
  w.set(key);
  for (var i = 32; i < 240; i += 4) {
    var t0 = w[i - 4]!, t1 = w[i - 3]!, t2 = w[i - 2]!, t3 = w[i - 1]!;
    if (i % 32 === 0) {
      var tmp = t0;
      t0 = S[t1]! ^ rcon; t1 = S[t2]!; t2 = S[t3]!; t3 = S[tmp]!;
      rcon = xtime(rcon);
    } else if (i % 32 === 16) {
      t0 = S[t0]!; t1 = S[t1]!; t2 = S[t2]!; t3 = S[t3]!;
    }
    w[i] = w[i - 32]! ^ t0; w[i + 1] = w[i - 31]! ^ t1; w[i + 2] = w[i - 30]! ^ t2; w[i + 3] = w[i - 29]! ^ t3;
  }
  return w;
}

/** Encrypts consecutive 16-byte blocks of `data` in place with expanded key `w` (ECB). */
export function aes256EncryptBlocks(w: Uint8Array, data: Uint8Array): void {
  var S = sbox(), s = new Uint8Array(16);
  for (var off = 0; off + 16 <= data.length; off += 16) {
    var i, r;
    for (i = 0; i < 16; i++) s[i] = data[off + i]! ^ w[i]!;
    for (r = 1; r < 15; r++) {
      for (i = 0; i < 16; i++) s[i] = S[s[i]!]!;
      // ShiftRows (state is column-major: byte i is row i%4, column i>>2).
      var t = s[1]!; s[1] = s[5]!; s[5] = s[9]!; s[9] = s[13]!; s[13] = t;
      t = s[2]!; s[2] = s[10]!; s[10] = t; t = s[6]!; s[6] = s[14]!; s[14] = t;
      t = s[15]!; s[15] = s[11]!; s[11] = s[7]!; s[7] = s[3]!; s[3] = t;
      if (r < 14) {
        for (i = 0; i < 16; i += 4) {
          var a0 = s[i]!, a1 = s[i + 1]!, a2 = s[i + 2]!, a3 = s[i + 3]!, x = a0 ^ a1 ^ a2 ^ a3;
          s[i] = a0 ^ x ^ xtime(a0 ^ a1); s[i + 1] = a1 ^ x ^ xtime(a1 ^ a2);
          s[i + 2] = a2 ^ x ^ xtime(a2 ^ a3); s[i + 3] = a3 ^ x ^ xtime(a3 ^ a0);
        }
      }
      for (i = 0; i < 16; i++) s[i] = s[i]! ^ w[r * 16 + i]!;
    }
    data.set(s, off);
  }
}
