/**
 * Security 1 (ESP-IDF protocomm/src/security/security1.c): X25519 + proof of possession + AES-256-CTR.
 *
 * key = X25519(device_priv, client_pub) XOR SHA-256(PoP)   (no XOR when the PoP is empty)
 * One CTR stream per session, initial counter = device_random, shared by both directions and every later
 * message: bytes 0-31 check the client (it encrypts the DEVICE public key), 32-63 answer it (the device
 * encrypts the CLIENT public key), then requests and responses in order.
 *
 * The device key pair and random are made before a client connects (at boot and when a session ends),
 * so SessionCmd0 is answered without a scalar multiplication; the shared secret is computed from Cmd0 on,
 * in slices, and Cmd1 waits for it.
 */
import { decode, encode } from "../proto/codec";
import { D_SessionData, Sec1MsgType, SessionData } from "../proto/schema.gen";
import { equalCt, isZero, xor } from "../core/bytes";
import { Logger } from "../core/log";
import { ctrStream, CtrStream } from "../crypto/ctr";
import { FieldOpsMaker, x25519 } from "../crypto/x25519";
import { BASE_POINT as BASE, mpiScalarMult, ScalarMult } from "../crypto/x25519-mpi";
import { CryptoPort, ClockPort } from "../ports/ports";
import { protocolError, Security, Done } from "./security";
import { Throttle } from "./throttle";

export interface Sec1Options {
  pop: Uint8Array;
  crypto: CryptoPort;
  clock: ClockPort;
  throttle: Throttle;
  log: Logger;
  /** Ladder steps per slice. */
  slice?: number;
  /** Field code of the JS X25519: generatedOps or loopOps (CONFIG_PROV_X25519_CODE). */
  ops: FieldOpsMaker;
}

const enum St { CMD0 = 0, CMD1 = 1, DONE = 2 }

interface KeyPair { priv: Uint8Array; pub: Uint8Array; random: Uint8Array }

export interface Security1 extends Security {
  /** Starts making the next key pair if none is ready or being made; cb when ready. */
  prepare(cb?: () => void): void;
  /** Provisioning is over: no key pair is made any more, and one being made is abandoned at its next slice. */
  stop(): void;
}

export function security1(o: Sec1Options): Security1 {
  var log = o.log, cr = o.crypto;
  var popHash = o.pop.length ? cr.sha256(o.pop) : undefined;
  var keys: KeyPair | undefined, making = false, stopped = false, waiters: (() => void)[] = [];
  var sid = -1, state = St.CMD0, clientPub: Uint8Array | undefined, stream: CtrStream | undefined;
  var shared: Uint8Array | undefined, sharedWaiters: ((s?: Uint8Array) => void)[] = [];
  var xopt = { ops: o.ops, cv: cr.convolve, gather: cr.mapInPlace, defer: cr.defer, slice: o.slice };
  // The shared-secret computation of the current session; a session that ends abandons it, so that its
  // slices do not halve the speed of the next session's X25519s (two at once took a Cmd0 or Cmd1 past the
  // client's 30 s ATT timeout).
  var job: {} | undefined;
  var jsMult: ScalarMult = function (k, u, cb, defer) {
    x25519(k, u, defer ? { ops: xopt.ops, cv: xopt.cv, gather: xopt.gather, slice: xopt.slice, defer: defer } : xopt, cb);
  };
  // On the RSA accelerator when the board has one (self-tested, JS fallback); an accelerated ladder step is
  // ≈ 2× cheaper in the interpreter (npm run bench), so a slice takes 2× the steps for the same time.
  var mult = cr.mpi ? mpiScalarMult(cr.mpi, { defer: cr.defer, slice: 2 * (o.slice || 2) }, log, jsMult) : jsMult;

  function prepare(cb?: () => void) {
    if (keys) {
      if (cb) cb();
      return;
    }
    if (cb) waiters.push(cb);
    if (making || stopped) return;
    making = true;
    var priv = cr.random(32), t0 = o.clock.now();
    mult(priv, BASE, function (pub) {
      keys = { priv: priv, pub: pub, random: cr.random(16) };
      making = false;
      log.i("Device key pair ready in " + (o.clock.now() - t0) + " ms");
      var w = waiters;
      waiters = [];
      for (var i = 0; i < w.length; i++) w[i]!();
    }, function (fn) {
      cr.defer(function () {
        if (!stopped) fn();
      });
    });
  }

  function reset() {
    state = St.CMD0;
    clientPub = undefined;
    stream = undefined;
    shared = undefined;
    // A Cmd1 still waiting for the secret of this session gets its answer (an error) rather than none:
    // the transport serialises exchanges and would wait for it for ever.
    var w = sharedWaiters;
    sharedWaiters = [];
    job = undefined;
    for (var i = 0; i < w.length; i++) w[i]!();
  }

  /** The key pair is used for one session only; the next one is made in the background. */
  function retireKeys() {
    if (keys && state !== St.CMD0) {
      keys = undefined;
      prepare();
    }
  }

  function fail(done: Done, code: string, msg: string) {
    log.e(msg);
    retireKeys();
    reset();
    done(protocolError(code, msg));
  }

  function cmd0(m: SessionData, done: Done) {
    var sc0 = m.sec1!.sc0;
    if (state !== St.CMD0) {
      log.w("Invalid state of session " + state + " (expected 0). Restarting session");
      retireKeys();
      reset();
    }
    var wait = o.throttle.wait(o.clock.now());
    if (wait) return fail(done, "throttled", "Too many failed PoP attempts; session refused for " + Math.ceil(wait / 1000) + " s");
    if (!sc0 || !sc0.client_pubkey || sc0.client_pubkey.length !== 32) return fail(done, "sec1", "Invalid client public key length");
    var cpub = sc0.client_pubkey, forSid = sid;
    prepare(function () {
      if (forSid !== sid) return done(protocolError("session", "session closed"));
      var k = keys!;
      clientPub = cpub;
      state = St.CMD1;
      var my = (job = {});
      var guarded = function (fn: () => void) {
        cr.defer(function () {
          if (job === my) fn();
        });
      };
      var onShared = function (s: Uint8Array) {
        if (forSid !== sid || clientPub !== cpub || job !== my) return;
        shared = s;
        // Cmd1's work (AES, verify, encode, reply) runs in the next JS item, once the ladder's elements and
        // generated code are garbage: their JsVars and the reply's are not needed at the same time.
        cr.defer(function () {
          if (job !== my) return;
          var w = sharedWaiters;
          sharedWaiters = [];
          for (var i = 0; i < w.length; i++) w[i]!(s);
        });
      };
      // Resp0 first; the ladder starts in the next JS item, so the reply's encoding and the ladder's
      // elements are not alive together (the session's JsVar peak, npm run bench).
      done(null, encode(D_SessionData, {
        sec_ver: 1,
        sec1: { msg: Sec1MsgType.Session_Response0, sr0: { status: 0, device_pubkey: k.pub, device_random: k.random } },
      }));
      guarded(function () {
        mult(k.priv, cpub, onShared, guarded);
      });
    });
  }

  function cmd1(m: SessionData, done: Done) {
    var sc1 = m.sec1!.sc1;
    if (state !== St.CMD1) return fail(done, "sec1", "Invalid state of session " + state + " (expected 1)");
    if (!sc1 || !sc1.client_verify_data || sc1.client_verify_data.length !== 32) return fail(done, "sec1", "Invalid client verify data length");
    var verify = sc1.client_verify_data, forSid = sid;
    function withShared(s?: Uint8Array) {
      if (!s || forSid !== sid) return done(protocolError("session", "session closed"));
      // An all-zero secret means a low-order client point: refuse (RFC 7748 §6.1).
      if (isZero(s)) return fail(done, "sec1", "Shared secret is zero: invalid client public key");
      var key = popHash ? xor(s, popHash) : s;
      stream = ctrStream(keys!.random, cr.aes256(key));
      if (!equalCt(stream.update(verify), keys!.pub)) {
        o.throttle.failed(o.clock.now());
        return fail(done, "pop", "Key mismatch. Close connection");
      }
      var devVerify = stream.update(clientPub!);
      state = St.DONE;
      o.throttle.succeeded();
      log.i("Secure session established");
      done(null, encode(D_SessionData, {
        sec_ver: 1,
        sec1: { msg: Sec1MsgType.Session_Response1, sr1: { status: 0, device_verify_data: devVerify } },
      }));
    }
    if (shared) withShared(shared);
    else sharedWaiters.push(withShared);
  }

  function established(s: number): CtrStream {
    if (s !== sid || state !== St.DONE || !stream) throw protocolError("session", "Secure session not established");
    return stream;
  }
  /** Encryption and decryption are the same step of the one CTR stream (one function: ≈ 7 JsVars fewer). */
  function crypt(s: number, data: Uint8Array) {
    return established(s).update(data);
  }

  return {
    version: 1,
    prepare: prepare,
    stop: function () {
      stopped = true;
      job = undefined;
    },
    open: function (s) {
      if (sid !== -1 && sid !== s) retireKeys();
      sid = s;
      reset();
    },
    close: function (s) {
      if (s !== sid) return;
      retireKeys();
      reset();
      sid = -1;
    },
    handshake: function (s, req, done) {
      var m: SessionData = decode(D_SessionData, req);
      if (m.sec_ver !== 1 || !m.sec1) return fail(done, "sec1", "Invalid security version or payload for security 1");
      if (s !== sid) {
        retireKeys();
        sid = s;
        reset();
      }
      var msg = m.sec1.msg || 0;
      if (msg === Sec1MsgType.Session_Command0 && m.sec1.payload === "sc0") cmd0(m, done);
      else if (msg === Sec1MsgType.Session_Command1 && m.sec1.payload === "sc1") cmd1(m, done);
      else fail(done, "sec1", "Invalid security 1 message type " + msg);
    },
    encrypt: crypt,
    decrypt: crypt,
  };
}
