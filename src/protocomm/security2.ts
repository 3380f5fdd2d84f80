/**
 * Security 2 (ESP-IDF v5.5 protocomm/src/security/security2.c with crypto/srp6a/esp_srp.c): SRP6a over the
 * RFC 5054 3072-bit group with SHA-512 (srp.ts), then AES-256-GCM.
 *
 * - Cmd0 {username I, A (384 bytes)} → Resp0 {B, salt}. A must be 384 bytes and A mod N ≠ 0 (RFC 5054 §2.5.4).
 *   B = k·v + g^b mod N with a 256-bit b (esp_srp.c __esp_srp_srv_pubkey: esp_mpi_get_rand(b, 256)); B, like S,
 *   is written without leading zero bytes (esp_mpi_to_bin).
 * - Cmd1 {M} → Resp1 {H(A | M | K), 12-byte nonce}. u = H(PAD(A) | PAD(B)), S = (A·v^u)^b, K = H(S),
 *   M = H(H(N) XOR H(PAD(g)) | H(I) | salt | A | B | K), with the client's I: a wrong username gives the client
 *   another x, hence a wrong M (ESP-IDF does not compare usernames either). A wrong M drops the session and
 *   counts as a failed PoP (throttle.ts).
 * - Data: AES-256-GCM, key K[0..32), no AAD, tag appended. Nonce = 8 random bytes + 32-bit big-endian counter
 *   from 1; with sec_patch_ver 1 (v5.5, proto-ver) the counter steps after every GCM operation on either side,
 *   a failed decryption leaves it (security2.c sec2_decrypt). A counter wrapped to 0 refuses.
 * Differences from ESP-IDF, in time only: b and B are made before a client connects (at boot and when a session
 * ends), so Cmd0 needs two exponentiations and a product instead of three and two; S and K are made at Cmd0 as
 * ESP-IDF does, the proofs M and H(A | M | K) right after Resp0 went out (Cmd1 waits for them if it comes first).
 * The big-number operations come in through BigOps (the RSA block on the board, BigInt in tests).
 */
import { decode, encode } from "../proto/codec";
import { D_SessionData, Sec2MsgType, SessionData } from "../proto/schema.gen";
import { bytesToStr, concat, equalCt, isZero, strToBytes } from "../core/bytes";
import { Logger } from "../core/log";
import { gcmOpenWith, gcmSealWith } from "../crypto/gcm";
import { CryptoPort, ClockPort } from "../ports/ports";
import { protocolError, Security, Done } from "./security";
import { Throttle } from "./throttle";
import { generator, hngBytes, kBytes, nBytes, pad, reduceOnce, SRP_BYTES, strip } from "./srp";

/** 3072-bit arithmetic modulo N on 384-byte big-endian operands below N; results are 384 bytes. */
export interface BigOps {
  exp(base: Uint8Array, e: Uint8Array, done: (r: Uint8Array) => void, fail: (why: string) => void): void;
  mul(a: Uint8Array, b: Uint8Array, done: (r: Uint8Array) => void, fail: (why: string) => void): void;
  /** (a + b) mod N. */
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** Calls back with "" once the operations may be used, else why not (logged; every session is refused). */
  ready(cb: (why: string) => void): void;
}

/** What the device keeps instead of the password: the salt, v = g^x and k·v mod N (384 bytes each). */
export interface Verifier { salt: Uint8Array; v: Uint8Array; kv: Uint8Array }

export interface Sec2Options {
  /** The verifier, possibly later (made on the board for a random PoP), or why there is none. */
  verifier(cb: (v: Verifier) => void, fail: (why: string) => void): void;
  ops: BigOps;
  crypto: CryptoPort;
  clock: ClockPort;
  throttle: Throttle;
  log: Logger;
  /** sec_patch_ver (1 as v5.5: the nonce counter steps; 0: a constant nonce). */
  patchVer: number;
  /** The configured username: its H(I) is made once, not at every SessionCmd1 (one SHA-512 block fewer there). */
  user?: string;
}

const enum St { CMD0 = 0, CMD1 = 1, DONE = 2 }

export interface Security2 extends Security {
  /** Makes the next b and B unless ready or being made; cb when ready. */
  prepare(cb?: () => void): void;
  /** Provisioning is over: no more b, B are made. */
  stop(): void;
}

/** SHA-512 as the CryptoPort gives it. */
export type Hash = (d: Uint8Array) => Uint8Array;

/** x = H(salt | H(I ":" P)) (esp_srp.c calculate_x). */
export function srpX(h: Hash, salt: Uint8Array, user: string, pass: string): Uint8Array {
  return h(concat([salt, h(strToBytes(user + ":" + pass))]));
}

/** v = g^x and k·v mod N for a salt: one exponentiation and one product (a random PoP, made on the board). */
export function makeVerifier(ops: BigOps, h: Hash, salt: Uint8Array, user: string, pass: string, done: (v: Verifier) => void, fail: (why: string) => void) {
  ops.exp(generator(), srpX(h, salt, user, pass), function (v) {
    ops.mul(pad(kBytes(), SRP_BYTES), v, function (kv) {
      done({ salt: salt, v: v, kv: kv });
    }, fail);
  }, fail);
}

export function security2(o: Sec2Options): Security2 {
  var log = o.log, cr = o.crypto, ops = o.ops, sha512 = cr.sha512;
  /** Why Security 2 cannot be used on this boot (the block's check failed, or an operation did): set once. */
  var unusable: string | undefined;
  var ver: Verifier | undefined;
  var eph: { b: Uint8Array; B: Uint8Array } | undefined, making = false, stopped = false, waiters: (() => void)[] = [];
  var sid = -1, state = St.CMD0;
  // The session: the expected client proof M, the device's H(A | M | K) and K once computed (Cmd1 waits for them),
  // then the AES block function of K and the nonce.
  var proofs: { M: Uint8Array; hamk: Uint8Array; k: Uint8Array } | undefined, enc: ((b: Uint8Array) => void) | undefined;
  var iv: Uint8Array | undefined, job: {} | undefined, waiters1: (() => void)[] = [];
  var userHash: Uint8Array | undefined;
  /** H(I) for the client's username. */
  function hashUser(name: Uint8Array): Uint8Array {
    if (o.user === undefined || bytesToStr(name) !== o.user) return sha512(name);
    return userHash || (userHash = sha512(name));
  }

  function prepare(cb?: () => void) {
    if (eph || unusable) {
      if (cb) cb();
      return;
    }
    if (cb) waiters.push(cb);
    if (making || stopped) return;
    making = true;
    var t0 = o.clock.now();
    function ended() {
      making = false;
      var q = waiters;
      waiters = [];
      for (var i = 0; i < q.length; i++) q[i]!();
    }
    function failed(why: string) {
      unusable = why;
      log.e("Security 2 sessions refused: " + why);
      ended();
    }
    ops.ready(function (why) {
      if (why) return failed(why);
      o.verifier(function (v) {
        ver = v;
        var b = cr.random(32);
        ops.exp(generator(), b, function (gb) {
          if (stopped) return;
          if (o.user !== undefined) hashUser(strToBytes(o.user));
          eph = { b: b, B: strip(ops.add(v.kv, gb)) };
          log.i("Device public key ready in " + (o.clock.now() - t0) + " ms");
          ended();
        }, failed);
      }, failed);
    });
  }

  function reset() {
    state = St.CMD0;
    proofs = enc = iv = undefined;
    job = undefined;
    // A Cmd1 waiting for the proofs gets its answer (an error) rather than none.
    var q = waiters1;
    waiters1 = [];
    for (var i = 0; i < q.length; i++) q[i]!();
  }

  /** b is used for one session only; the next is made in the background. */
  function retire() {
    if (eph && state !== St.CMD0) {
      eph = undefined;
      prepare();
    }
  }

  function fail(done: Done, code: string, msg: string) {
    log.e(msg);
    retire();
    reset();
    done(protocolError(code, msg));
  }

  function reply(msg: number, body: any): Uint8Array {
    var p: any = { msg: msg };
    p[msg === Sec2MsgType.S2Session_Response0 ? "sr0" : "sr1"] = body;
    return encode(D_SessionData, { sec_ver: 2, sec2: p });
  }

  function cmd0(m: SessionData, done: Done) {
    var sc0 = m.sec2!.sc0;
    if (state !== St.CMD0) {
      log.w("Invalid state of session " + state + " (expected 0). Restarting session");
      retire();
      reset();
    }
    var wait = o.throttle.wait(o.clock.now());
    if (wait) return fail(done, "throttled", "Too many failed PoP attempts; session refused for " + Math.ceil(wait / 1000) + " s");
    if (!sc0 || !sc0.client_pubkey || sc0.client_pubkey.length !== SRP_BYTES) return fail(done, "sec2", "Invalid public key length");
    if (!sc0.client_username || !sc0.client_username.length || sc0.client_username.length > 65535) return fail(done, "sec2", "Invalid username length");
    // A ≥ N needs A's top byte at 0xFF, as N's (then one subtraction): N is made only then.
    var a = sc0.client_pubkey, ar = a[0] === 255 ? reduceOnce(a, nBytes()) : a;
    if (isZero(ar)) return fail(done, "sec2", "Client public key A mod N is 0");
    var name = sc0.client_username, forSid = sid;
    prepare(function () {
      if (forSid !== sid) return done(protocolError("session", "session closed"));
      if (unusable) return fail(done, "sec2", "Security 2 unavailable: " + unusable);
      var e = eph!, v = ver!, my = (job = {});
      state = St.CMD1;
      function failed(why: string) {
        if (job === my) fail(done, "sec2", "Failed to generate device session key: " + why);
      }
      // S = (A·v^u)^b and K = H(S) before Resp0, as esp_srp_get_session_key at Cmd0 (security2.c); M and H(A | M | K)
      // after it. SHA-512 is the crypto module's (native on the ESP32 build), else JS.
      var u = sha512(concat([a, pad(e.B, SRP_BYTES)]));
      if (isZero(u)) return failed("u = 0");
      ops.exp(v.v, pad(u, SRP_BYTES), function (vu) {
        if (job !== my) return;
        ops.mul(ar, vu, function (avu) {
          if (job !== my) return;
          ops.exp(avu, e.b, function (S) {
            if (job !== my) return;
            var k = sha512(strip(S));
            done(null, reply(Sec2MsgType.S2Session_Response0, { status: 0, device_pubkey: e.B, device_salt: v.salt }));
            // The proofs in the next JS item, while the client works out its own.
            cr.defer(function () {
              if (job !== my) return;
              var M = sha512(concat([hngBytes(), hashUser(name), v.salt, a, e.B, k]));
              proofs = { M: M, hamk: sha512(concat([a, M, k])), k: k };
              var q = waiters1;
              waiters1 = [];
              for (var i = 0; i < q.length; i++) q[i]!();
            });
          }, failed);
        }, failed);
      }, failed);
    });
  }

  function cmd1(m: SessionData, done: Done) {
    var sc1 = m.sec2!.sc1;
    if (state !== St.CMD1) return fail(done, "sec2", "Invalid state of session " + state + " (expected 1)");
    if (!sc1 || !sc1.client_proof || sc1.client_proof.length !== 64) return fail(done, "sec2", "The client proof length does not match");
    var proof = sc1.client_proof, forSid = sid;
    function withProofs() {
      var p = proofs;
      if (!p || forSid !== sid) return done(protocolError("session", "session closed"));
      if (!equalCt(proof, p.M)) {
        o.throttle.failed(o.clock.now());
        return fail(done, "pop", "Failed to authenticate client proof (wrong username or PoP)");
      }
      iv = concat([cr.random(8), new Uint8Array([0, 0, 0, 1])]);
      enc = cr.aes256(p.k.subarray(0, 32));
      proofs = undefined;
      state = St.DONE;
      o.throttle.succeeded();
      log.i("Secure session established");
      done(null, reply(Sec2MsgType.S2Session_Response1, { status: 0, device_proof: p.hamk, device_nonce: iv }));
    }
    if (proofs) withProofs();
    else waiters1.push(withProofs);
  }

  /** The session's nonce, checked usable; after the operation `step` advances it (sec_patch_ver 1). */
  function nonce(s: number): Uint8Array {
    if (s !== sid || state !== St.DONE || !iv) throw protocolError("session", "Secure session not established");
    if (!(iv[8]! | iv[9]! | iv[10]! | iv[11]!)) throw protocolError("session", "Invalid counter value, restart session");
    return iv;
  }
  function step() {
    if (!o.patchVer) return;
    for (var i = 11; i >= 8; i--) if ((iv![i] = (iv![i]! + 1) & 255)) break;
  }

  return {
    version: 2,
    prepare: prepare,
    stop: function () {
      stopped = true;
      job = undefined;
    },
    open: function (s) {
      if (sid !== -1 && sid !== s) retire();
      sid = s;
      reset();
    },
    close: function (s) {
      if (s !== sid) return;
      retire();
      reset();
      sid = -1;
    },
    handshake: function (s, req, done) {
      var m: SessionData = decode(D_SessionData, req);
      if (m.sec_ver !== 2 || !m.sec2) return fail(done, "sec2", "Invalid security version or payload for security 2");
      if (s !== sid) {
        retire();
        sid = s;
        reset();
      }
      var msg = m.sec2.msg || 0;
      if (msg === Sec2MsgType.S2Session_Command0 && m.sec2.payload === "sc0") cmd0(m, done);
      else if (msg === Sec2MsgType.S2Session_Command1 && m.sec2.payload === "sc1") cmd1(m, done);
      else fail(done, "sec2", "Invalid security 2 message type " + msg);
    },
    encrypt: function (s, data) {
      var r = gcmSealWith(enc!, nonce(s), data);
      step();
      return r;
    },
    decrypt: function (s, data) {
      var r = gcmOpenWith(enc!, nonce(s), data);
      if (!r) throw protocolError("gcm", "AES-GCM authentication failed");
      step();
      return r;
    },
  };
}
