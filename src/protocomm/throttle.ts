/**
 * Proof-of-possession guessing brake (beyond ESP-IDF, whose security1.c has no counter).
 *
 * Policy for a storm of wrong-PoP sessions:
 * - Guessing: the first FREE_FAILURES failed sessions are free; after that every failure refuses new
 *   sessions (Cmd0 is answered with a dropped link) for BASE_MS, doubling per further failure up to CAP_MS.
 *   A guesser gets 3 tries, then about 12 per hour. The count is kept in flash (a two-slot record, safe
 *   against a power cut at any byte) so a reboot does not reset it; a session with the right PoP clears it.
 * - The owner: once the wrong sessions stop, the right PoP is accepted at most CAP_MS (5 min) after the
 *   last failure. And the first session after a boot is never refused (it still counts if wrong): the
 *   owner, who can power-cycle the board, gets in at once even while someone keeps failing; a guesser in
 *   radio range cannot reboot the board. (Nothing stops a radio-range attacker from simply holding the one
 *   BLE link or jamming; the brake only bounds guessing and how long it can shut the owner out.)
 * There is no real-time clock: lock-outs run on time since boot.
 */
import { KvPort } from "../ports/ports";
import { Logger } from "../core/log";
import { readRecord, writeRecord } from "../core/record";

export var FREE_FAILURES = 3, BASE_MS = 10000, CAP_MS = 300000;
export var THROTTLE_SLOTS = ["prov.popfail.a", "prov.popfail.b"];

export interface Throttle {
  /** ms the caller must still wait (0 = allowed). */
  wait(now: number): number;
  failed(now: number): void;
  succeeded(): void;
  failures(): number;
}

export function lockoutMs(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(CAP_MS, BASE_MS * Math.pow(2, failures - FREE_FAILURES));
}

export function createThrottle(kv: KvPort, log: Logger): Throttle {
  var rec = readRecord(kv, THROTTLE_SLOTS);
  var n = (rec && parseInt(rec.body, 10)) || 0, until = 0;
  if (n >= FREE_FAILURES) log.w("PoP failures so far: " + n + "; the first session after boot is allowed, a wrong one locks for " + lockoutMs(n + 1) / 1000 + " s");
  return {
    wait: function (t) {
      return until > t ? until - t : 0;
    },
    failed: function (t) {
      n++;
      writeRecord(kv, THROTTLE_SLOTS, "" + n);
      var ms = lockoutMs(n);
      if (ms) {
        until = t + ms;
        log.w("Failed PoP sessions: " + n + "; new sessions refused for " + ms / 1000 + " s");
      }
    },
    succeeded: function () {
      if (n) writeRecord(kv, THROTTLE_SLOTS, "0");
      n = 0;
      until = 0;
    },
    failures: function () {
      return n;
    },
  };
}
