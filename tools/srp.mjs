// SRP6a on the host with BigInt, as ESP-IDF's Security 2 (esp_srp.c) and esp_prov's srp6a.py: the RFC 5054
// 3072-bit group, g = 5, SHA-512. The build uses it to make a fixed password's salt and verifier (what
// esp_prov --sec2_gen_cred prints), so the firmware never holds the password; the test client uses it too.
import crypto from "node:crypto";

export const N_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B" +
  "302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE6" +
  "49286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
  "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" +
  "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7D" +
  "B3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
export const N = BigInt("0x" + N_HEX);
export const G = 5n;
export const N_LEN = 384;

export function modPow(b, e, m) {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}
/** Big-endian bytes, left-padded to len (no leading zeros without it: long_to_bytes). */
export function toBytes(x, len = 0) {
  let h = x.toString(16);
  if (h.length % 2) h = "0" + h;
  const b = Buffer.from(h, "hex");
  return len > b.length ? Buffer.concat([Buffer.alloc(len - b.length), b]) : b;
}
export const toBig = (b) => (b.length ? BigInt("0x" + Buffer.from(b).toString("hex")) : 0n);
export const H = (...parts) => { const h = crypto.createHash("sha512"); for (const p of parts) h.update(p); return h.digest(); };
/** k = H(N | PAD(g)). */
export const kOf = () => toBig(H(toBytes(N), toBytes(G, N_LEN)));
/** x = H(s | H(I ":" P)). */
export const xOf = (salt, user, pass) => toBig(H(salt, H(Buffer.from(`${user}:${pass}`, "latin1"))));

/**
 * A 16-byte salt with a non-zero first byte (srp6a.py hashes the salt as long_to_bytes(s), which would drop a
 * leading zero the device keeps), v = g^x mod N and k·v mod N, each 384 bytes, as hex.
 */
export function makeVerifier(user, pass, salt = undefined) {
  let s = salt ? Buffer.from(salt) : crypto.randomBytes(16);
  while (!s[0]) s = crypto.randomBytes(16);
  const v = modPow(G, xOf(s, user, pass), N);
  return { salt: s.toString("hex"), v: toBytes(v, N_LEN).toString("hex"), kv: toBytes((kOf() * v) % N, N_LEN).toString("hex") };
}
