/**
 * SRP6a as ESP-IDF's Security 2 uses it (components/protocomm/src/crypto/srp6a/esp_srp.c; client
 * tools/esp_prov/security/srp6a.py): the RFC 5054 Appendix A 3072-bit group, g = 5, SHA-512.
 * Values travel as big-endian bytes; ESP-IDF writes B, S and the salt it made with esp_mpi_to_bin (no leading
 * zero bytes) and pads only inside k and u (PAD to the 384 bytes of N).
 */
import { fromHex } from "../core/bytes";

export var SRP_BYTES = 384;

// The group's constants are returned by functions, so that their text stays in the bundle's code (in flash on the
// board) and costs RAM only while a caller holds the bytes; test-host/tests/security2.test.ts recomputes each.

/** N: RFC 5054 Appendix A, 3072-bit group (esp_srp.c N_3072). */
export function nBytes(): Uint8Array {
  return fromHex("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF");
}

/** k = H(N | PAD(g)). */
export function kBytes(): Uint8Array {
  return fromHex("a9c2e2559bf0ebb53f0cbbf62282906bede7f2182f00678211fbd5bde5b285033a4993503b87397f9be5ec02080fedbc0835587ad039060879b8621e8c3659e0");
}

/** H(N) XOR H(PAD(g)), the head of M. */
export function hngBytes(): Uint8Array {
  return fromHex("dad76ed5365ed7bf6bbc1bfa050981458392bbd35a50335d03db3c7535b261d1c902f2ffb8647125bd28ce966c066d5be9b939216c6078b65889299c61624694");
}

/**
 * R² mod N with R = 2^3072, the RSA block's Montgomery constant for N (esp32-bignum.ts modGroup would otherwise
 * make it on the block at first use).
 */
export function r2Bytes(): Uint8Array {
  return fromHex("5ac8b4fb51df35da44c4e4e431ad0295a332e8e3e0669e0f84895a7c5542f96c2ad479fe69695c75fae1cd10648bee54fa022336f28de7725caa69009fbf543f9875d4c167db7edcaa05da05c27fdd33af0ec45cdc3960862276cb40571f2c1c49cd9d705da184d57139d0ab24b7e495a5daf736bc8d5e9e109d099e16fd756877a5c747d85b0a838c6cbd34d5965134a73d01032c4b8e907ded489e670d9c6f19c2883eefc802af0672a33d61e37f747cda502ec043f99c9a678bf4439f12eb5a7795d86ecc498719cc8d59563706fbb41a05f078024208bfd961d538d6fcdd4f12768256e88b53785483c608108c0c3efef29dc3c0b3f41b9d01271d18f0c81caefc188a59bc7fb186424b83df2859af80d4b5443561c6fea5187fa77dedda1d93075aa993d1471ef22571e41a52b28aa61391abb0b76abc2b64cf26e335d7682aab9a15b17ffafc1187a5fa8406abae1284023c6ed6a34335aacb64894d9695823215b15ba5774f30b920e5c1db663587f06960e7f1382697ca9138d241cd");
}

/** The generator g = 5 as a 384-byte operand. */
export function generator(): Uint8Array {
  var g = new Uint8Array(SRP_BYTES);
  g[SRP_BYTES - 1] = 5;
  return g;
}

/** Without its leading zero bytes (esp_mpi_to_bin, srp6a.py long_to_bytes); zero stays one byte. */
export function strip(a: Uint8Array): Uint8Array {
  var i = 0;
  while (i < a.length - 1 && !a[i]) i++;
  return i ? a.subarray(i) : a;
}

/** Left-padded with zeros to `n` bytes (a is at most n bytes). */
export function pad(a: Uint8Array, n: number): Uint8Array {
  if (a.length === n) return a;
  var r = new Uint8Array(n);
  r.set(a, n - a.length);
  return r;
}

/**
 * a mod N for a 384-byte a: a < 2^3072 < 2N, so at most one subtraction of N (an A from the client may be ≥ N;
 * the block's operands must be below the modulus).
 */
export function reduceOnce(a: Uint8Array, n: Uint8Array): Uint8Array {
  var i = 0;
  while (i < SRP_BYTES && a[i] === n[i]) i++;
  if (i < SRP_BYTES && a[i]! < n[i]!) return a;
  var r = new Uint8Array(SRP_BYTES), borrow = 0;
  for (var j = SRP_BYTES - 1; j >= 0; j--) {
    var d = a[j]! - n[j]! - borrow;
    borrow = d < 0 ? 1 : 0;
    r[j] = d & 255;
  }
  return r;
}
