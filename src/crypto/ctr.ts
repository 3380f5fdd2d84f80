/**
 * AES-256-CTR keystream with state kept across calls, as protocomm Security1 needs: one stream per
 * session, shared by both directions, continuing byte-exactly across message boundaries (mbedtls keeps
 * nc_off/stream_block; esp_prov keeps one Cipher object). Espruino's AES "CTR" mode ignores the IV and
 * restarts at counter 0 on every call (docs/espruino-esp32.md §4, test-host/fixtures/probes/crypto.expected), so the
 * counter lives here and the platform only encrypts whole 16-byte blocks (native ECB).
 */

/** Encrypts whole 16-byte blocks in place (ECB) with the stream's key. */
export type BlockEncrypt = (blocks: Uint8Array) => void;

export interface CtrStream {
  /** XORs `data` with the next data.length keystream bytes; returns a new array. */
  update(data: Uint8Array): Uint8Array;
  /** Keystream bytes consumed so far. */
  offset(): number;
}

/** A CTR stream whose first counter block is `iv` (16 bytes, incremented as one 128-bit big-endian integer). */
export function ctrStream(iv: Uint8Array, enc: BlockEncrypt): CtrStream {
  if (iv.length !== 16) throw new Error("ctr: iv must be 16 bytes, got " + iv.length);
  var counter = new Uint8Array(iv), block = new Uint8Array(16), used = 16, total = 0;
  function next(out: Uint8Array) {
    out.set(counter);
    for (var i = 15; i >= 0; i--) {
      counter[i] = (counter[i]! + 1) & 255;
      if (counter[i]) break;
    }
  }
  return {
    update: function (data) {
      var out = new Uint8Array(data.length), i = 0;
      // Finish the partial block left by the previous call.
      for (; i < data.length && used < 16; i++, used++) out[i] = data[i]! ^ block[used]!;
      if (i < data.length) {
        // Keystream for the rest in one native call: n counter blocks encrypted together.
        var n = (data.length - i + 15) >> 4, ks = new Uint8Array(n * 16);
        for (var k = 0; k < n; k++) next(ks.subarray(k * 16, k * 16 + 16));
        enc(ks);
        var j = 0;
        for (; i < data.length; i++, j++) out[i] = data[i]! ^ ks[j]!;
        block.set(ks.subarray((n - 1) * 16));
        used = j - (n - 1) * 16;
      }
      total += data.length;
      return out;
    },
    offset: function () {
      return total;
    },
  };
}
