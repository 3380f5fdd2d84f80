/**
 * The client side of SRP6a as esp_prov's security/srp6a.py does it (RFC 5054 with SHA-512 and the 3072-bit
 * group of its Appendix A), in Node BigInt and node:crypto — written from the RFC and srp6a.py, not from the
 * firmware, so that it checks the firmware.
 * Byte forms as srp6a.py: long_to_bytes (no leading zeros) everywhere except k and u, which pad to len(N).
 */
import nodeCrypto from "node:crypto";

export const N = BigInt("0x" +
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B" +
  "302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE6" +
  "49286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
  "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" +
  "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7D" +
  "B3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF");
export const G = 5n;
export const N_LEN = 384;

export function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** long_to_bytes: big-endian, no leading zeros (at least one byte). */
export function toBytes(x: bigint, len = 0): Buffer {
  let h = x.toString(16);
  if (h.length % 2) h = "0" + h;
  const b = Buffer.from(h, "hex");
  return len > b.length ? Buffer.concat([Buffer.alloc(len - b.length), b]) : b;
}
export const toBig = (b: Uint8Array) => (b.length ? BigInt("0x" + Buffer.from(b).toString("hex")) : 0n);
export const H = (...parts: Uint8Array[]) => { const h = nodeCrypto.createHash("sha512"); for (const p of parts) h.update(p); return h.digest(); };

/** k = H(N | PAD(g)). */
export const kOf = () => toBig(H(toBytes(N), toBytes(G, N_LEN)));
/** x = H(s | H(I ":" P)). */
export const xOf = (salt: Uint8Array, user: string, pass: string) => toBig(H(salt, H(Buffer.from(`${user}:${pass}`))));

/** Salt and verifier v = g^x mod N (esp_prov --sec2_gen_cred); the salt's first byte is non-zero, so its bytes are the same with or without long_to_bytes. */
export function saltAndVerifier(user: string, pass: string, salt?: Uint8Array) {
  let s = salt ? Buffer.from(salt) : nodeCrypto.randomBytes(16);
  while (!s[0]) s = nodeCrypto.randomBytes(16);
  return { salt: s, v: toBytes(modPow(G, xOf(s, user, pass), N)) };
}

export class Srp6aClient {
  readonly a: bigint;
  readonly A: bigint;
  K?: Buffer;
  private hamk?: Buffer;
  constructor(readonly user: string, readonly pass: string, a?: bigint) {
    // A 256-bit a as srp6a.py (get_random_of_length(32)); drawn again until A takes the 384 bytes the device
    // requires (security2.c refuses any other length).
    for (;;) {
      this.a = a ?? (toBig(nodeCrypto.randomBytes(32)) | (1n << 255n));
      this.A = modPow(G, this.a, N);
      if (a !== undefined || toBytes(this.A).length === N_LEN) break;
    }
  }
  get Abytes() { return toBytes(this.A); }
  /** From the device's salt and B: the proof M, or throws if B is unusable. */
  challenge(salt: Uint8Array, Bb: Uint8Array): Buffer {
    const B = toBig(Bb);
    if (B % N === 0n) throw new Error("device public key B ≡ 0 mod N");
    const u = toBig(H(toBytes(this.A, N_LEN), toBytes(B, N_LEN)));
    if (u === 0n) throw new Error("u = 0");
    const x = xOf(salt, this.user, this.pass);
    const v = modPow(G, x, N);
    const base = (((B - kOf() * v) % N) + N) % N;
    const S = modPow(base, this.a + u * x, N);
    const K = (this.K = H(toBytes(S)));
    const hg = H(toBytes(G, N_LEN)), hng = Buffer.from(H(toBytes(N)).map((b, i) => b ^ hg[i]!));
    const M = H(hng, H(Buffer.from(this.user)), toBytes(toBig(salt)), toBytes(this.A), toBytes(B), K);
    this.hamk = H(toBytes(this.A), M, K);
    return M;
  }
  /** The device's proof H(A | M | K) matches. */
  verify(devProof: Uint8Array): boolean {
    return !!this.hamk && Buffer.compare(this.hamk, Buffer.from(devProof)) === 0;
  }
}

/**
 * The session cipher after Resp1, as security2.py: AES-256-GCM with K[0..32), no AAD, the device's 12-byte nonce,
 * whose last 4 bytes (big-endian) count every encryption and decryption when sec_patch_ver is 1.
 */
export function gcmSession(K: Uint8Array, nonce: Uint8Array, patchVer: number) {
  const key = Buffer.from(K.subarray(0, 32)), iv = Buffer.from(nonce);
  const step = () => { if (patchVer === 1) iv.writeUInt32BE((iv.readUInt32BE(8) + 1) >>> 0, 8); };
  return {
    encrypt(d: Uint8Array): Uint8Array {
      const c = nodeCrypto.createCipheriv("aes-256-gcm", key, iv);
      const out = Buffer.concat([c.update(d), c.final(), c.getAuthTag()]);
      step();
      return new Uint8Array(out);
    },
    decrypt(d: Uint8Array): Uint8Array {
      if (d.length < 16) throw new Error("AES-GCM: message shorter than its tag");
      const c = nodeCrypto.createDecipheriv("aes-256-gcm", key, iv);
      c.setAuthTag(Buffer.from(d.subarray(d.length - 16)));
      const out = Buffer.concat([c.update(d.subarray(0, d.length - 16)), c.final()]);
      step();
      return new Uint8Array(out);
    },
  };
}
