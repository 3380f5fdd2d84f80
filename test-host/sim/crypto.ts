/**
 * require("crypto") as on ESP32 (libs/crypto/jswrap_crypto.c, mbedtls), with the quirks the firmware
 * must live with, pinned by test-host/fixtures/probes/crypto.expected:
 * - AES CTR ignores `iv` and restarts at counter 0 on every call (CM_CTR zeroes nonce_counter);
 * - ECB/CBC take whole blocks only: ECB leaves a partial trailing block as zeros, CBC throws;
 * - OFB is accepted by name but fails ("Feature unavailable"); CFB is CFB-8;
 * - results are ArrayBuffers.
 */
import nodeCrypto from "node:crypto";

type Mk = { ab(b: Uint8Array): ArrayBuffer };

function buf(d: unknown): Buffer {
  if (typeof d === "string") return Buffer.from(d, "latin1");
  if (ArrayBuffer.isView(d)) return Buffer.from((d as Uint8Array).buffer, (d as Uint8Array).byteOffset, (d as Uint8Array).byteLength);
  if (d && typeof (d as ArrayBuffer).byteLength === "number") return Buffer.from(d as ArrayBuffer);
  if (Array.isArray(d)) return Buffer.from(d as number[]);
  throw new Error("Expecting a String, Array or ArrayBuffer");
}

function aes(encrypt: boolean, mk: Mk) {
  return (msg: unknown, key: unknown, opt: { iv?: unknown; mode?: string } = {}) => {
    const k = buf(key), m = buf(msg), mode = (opt.mode || "CBC").toUpperCase();
    if (![16, 24, 32].includes(k.length)) throw new Error("Invalid key length");
    const bits = k.length * 8;
    const iv = opt.iv === undefined ? Buffer.alloc(16) : buf(opt.iv);
    const run = (name: string, ivv: Buffer | null, data: Buffer) => {
      const c = encrypt ? nodeCrypto.createCipheriv(name, k, ivv) : nodeCrypto.createDecipheriv(name, k, ivv);
      c.setAutoPadding(false);
      return Buffer.concat([c.update(data), c.final()]);
    };
    let out: Buffer;
    if (mode === "CTR") out = run(`aes-${bits}-ctr`, Buffer.alloc(16), m); // iv ignored
    else if (mode === "CFB") out = run(`aes-${bits}-cfb8`, iv, m);
    else if (mode === "ECB") {
      const whole = m.length - (m.length % 16);
      out = Buffer.alloc(m.length);
      run(`aes-${bits}-ecb`, null, m.subarray(0, whole)).copy(out);
    } else if (mode === "CBC") {
      if (m.length % 16) throw new Error("Invalid input length");
      out = run(`aes-${bits}-cbc`, iv, m);
    } else if (mode === "OFB") throw new Error("Feature unavailable");
    else throw new Error("Unknown Crypto mode " + mode);
    return mk.ab(out);
  };
}

export function cryptoModule(mk: Mk) {
  const hash = (alg: string) => (d: unknown) => mk.ab(nodeCrypto.createHash(alg).update(buf(d)).digest());
  return {
    SHA1: hash("sha1"),
    SHA224: hash("sha224"),
    SHA256: hash("sha256"),
    SHA384: hash("sha384"),
    SHA512: hash("sha512"),
    AES: { encrypt: aes(true, mk), decrypt: aes(false, mk) },
  };
}
