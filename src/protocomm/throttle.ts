/**
 * Proof-of-possession guessing brake (beyond ESP-IDF, whose security1.c has no counter): after
 * FREE_FAILURES failed sessions, new sessions are refused for BASE_MS, doubling per further failure up to
 * CAP_MS. The failure count is persisted so a reboot does not reset it; a successful session clears it.
 */
import { KvPort } from "../ports/ports";
import { Logger } from "../core/log";

export var FREE_FAILURES = 3, BASE_MS = 10000, CAP_MS = 300000;
var KEY = "prov.popfail";

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

export function createThrottle(kv: KvPort, log: Logger, now: number): Throttle {
  var n = parseInt(kv.read(KEY) || "0", 10) || 0;
  // After a reboot the lock-out restarts from boot: there is no real-time clock to resume it.
  var until = n >= FREE_FAILURES ? now + lockoutMs(n) : 0;
  if (until) log.w("PoP failures so far: " + n + "; sessions refused for " + lockoutMs(n) / 1000 + " s after boot");
  return {
    wait: function (t) {
      return until > t ? until - t : 0;
    },
    failed: function (t) {
      n++;
      kv.write(KEY, "" + n);
      var ms = lockoutMs(n);
      if (ms) {
        until = t + ms;
        log.w("Failed PoP sessions: " + n + "; new sessions refused for " + ms / 1000 + " s");
      }
    },
    succeeded: function () {
      if (n) kv.erase(KEY);
      n = 0;
      until = 0;
    },
    failures: function () {
      return n;
    },
  };
}
