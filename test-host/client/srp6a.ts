/**
 * The client side of SRP6a as esp_prov's security/srp6a.py does it (RFC 5054 with SHA-512 and the 3072-bit
 * group of its Appendix A), in Node BigInt (tools/srp.mjs, the host's SRP arithmetic) — written from the RFC and
 * srp6a.py, not from the firmware, so that it checks the firmware.
 * Byte forms as srp6a.py: long_to_bytes (no leading zeros) everywhere except k and u, which pad to len(N).
 */
import nodeCrypto from "node:crypto";
import { G, H, kOf, modPow, N, N_LEN, toBig, toBytes, xOf } from "../../tools/srp.mjs";

export class Srp6aClient {
  readonly a: bigint;
  readonly A: bigint;
  K?: Buffer;
  private hamk?: Buffer;
  constructor(readonly user: string, readonly pass: string) {
    // A 256-bit a as srp6a.py (get_random_of_length(32)), drawn again until A takes the 384 bytes the device
    // requires (security2.c refuses any other length; esp_prov would fail one session in 256 there).
    let a: bigint, A: bigint;
    do {
      a = toBig(nodeCrypto.randomBytes(32)) | (1n << 255n);
      A = modPow(G, a, N);
    } while (toBytes(A).length !== N_LEN);
    this.a = a;
    this.A = A;
  }
  get Abytes(): Uint8Array { return toBytes(this.A); }
  /** From the device's salt and B: the proof M; throws if B is unusable. */
  challenge(salt: Uint8Array, Bb: Uint8Array): Buffer {
    const B = toBig(Bb);
    if (B % N === 0n) throw new Error("the device's public key B is 0 mod N");
    const u = toBig(H(toBytes(this.A, N_LEN), toBytes(B, N_LEN)));
    if (u === 0n) throw new Error("u = 0");
    const x = xOf(salt, this.user, this.pass);
    const base = (((B - kOf() * modPow(G, x, N)) % N) + N) % N;
    const K = (this.K = H(toBytes(modPow(base, this.a + u * x, N))));
    const hg = H(toBytes(G, N_LEN)), hng = Buffer.from(H(toBytes(N)).map((b: number, i: number) => b ^ hg[i]!));
    const M = H(hng, H(Buffer.from(this.user)), toBytes(toBig(salt)), toBytes(this.A), toBytes(B), K);
    this.hamk = H(toBytes(this.A), M, K);
    return M;
  }
  /** The device's proof is H(A | M | K). */
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
      if (d.length < 16) throw new Error("AES-GCM: the reply is shorter than its tag");
      const c = nodeCrypto.createDecipheriv("aes-256-gcm", key, iv);
      c.setAuthTag(Buffer.from(d.subarray(d.length - 16)));
      const out = Buffer.concat([c.update(d.subarray(0, d.length - 16)), c.final()]);
      step();
      return new Uint8Array(out);
    },
  };
}
