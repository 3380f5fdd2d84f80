/**
 * Security 2's big-number operations (security2.ts BigOps) on the classic ESP32's RSA block (esp32-bignum.ts),
 * modulo the SRP group's N. Before first use: the chip must be one on which the block is used at all (the DPORT
 * read erratum, as X25519 decides: esp32-rsa.ts chipRevision, docs/esp32-rsa-block.md §5) and the known-answer
 * self-test must pass; otherwise every Security 2 session is refused with the logged reason — never a wrong key,
 * and no JS fallback (a 3072-bit exponentiation in the interpreter would take far longer than the clients wait).
 * An operation that finds the block held by another user (mbedtls in the Wi-Fi task: BUSY) or taken mid-way (LOST)
 * is tried again a few times after a short pause.
 */
import { MpiIo, chipRevision, BUSY, LOST } from "./esp32-rsa";
import { blockModExp, blockModMul, bignumSelfTest, modAdd, modGroup } from "./esp32-bignum";
import { BigOps } from "../protocomm/security2";

/** Tries per operation when the block is busy or taken, and the pause between them (ms). */
var TRIES = 5, PAUSE_MS = 50;

/** `n` the modulus, `r2` R² mod N (precomputed: srp.ts r2Bytes). */
export function blockOps(io: MpiIo, n: Uint8Array, r2: Uint8Array, defer: (fn: () => void) => void, after: (fn: () => void, ms: number) => void): BigOps {
  var g = modGroup(n, r2), why: string | undefined, waiting: ((w: string) => void)[] | undefined;
  function retrying(op: (done: (r: Uint8Array) => void, fail: (w: string) => void) => void, done: (r: Uint8Array) => void, fail: (w: string) => void) {
    var left = TRIES;
    function go() {
      op(done, function (w) {
        if ((w === BUSY || w === LOST) && --left > 0) return after(go, PAUSE_MS);
        fail(w);
      });
    }
    go();
  }
  return {
    exp: function (b, e, done, fail) {
      retrying(function (d, f) { blockModExp(io, g, b, e, d, f, defer); }, done, fail);
    },
    mul: function (a, b, done, fail) {
      retrying(function (d, f) { blockModMul(io, g, a, b, d, f, defer); }, done, fail);
    },
    add: function (a, b) {
      return modAdd(g, a, b);
    },
    ready: function (cb) {
      if (why !== undefined) return cb(why);
      if (waiting) return void waiting.push(cb);
      waiting = [cb];
      function known(w: string) {
        why = w;
        var q = waiting!;
        waiting = undefined;
        for (var i = 0; i < q.length; i++) q[i]!(w);
      }
      var c = chipRevision(io);
      if (c.rev < 3 && !c.singleCore) {
        return known("ESP32 chip revision " + (c.rev < 0 ? "unreadable" : c.rev) + " with two cores: the RSA accelerator is not used there (DPORT read erratum, ESP32 errata CPU-3.10)");
      }
      bignumSelfTest(io, g, function (ok, w) {
        known(ok ? "" : "RSA accelerator self-test failed: " + w);
      });
    },
  };
}
