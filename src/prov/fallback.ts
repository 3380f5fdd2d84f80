/**
 * Life after provisioning: a station that has been without its network for `delayMs`
 * (CONFIG_PROV_STA_FALLBACK_S; 0 = never, as ESP-IDF) opens provisioning again on the SoftAP while its
 * retries go on, and closes it when the old network comes back.
 *
 * It opens through a reboot: the marker file FALLBACK_MARK tells the next boot to start the station AND the
 * SoftAP provisioning. So provisioning is only ever set up by boot code, whose factories the build frees
 * after boot (tools/boot-only.mjs); a board that never falls back pays no RAM for being able to. The marker is
 * erased as that boot starts: a power cut cannot leave a board stuck in fallback.
 */
import { ClockPort, KvPort } from "../ports/ports";

export var FALLBACK_MARK = "prov.fallback";

export interface Fallback {
  /** The station is without a network (boot, or after a drop): arms the timer once. */
  down(): void;
  /** The station got an IP: disarms the timer, closes a fallback provisioning. */
  up(): void;
}

/** Whether this boot is a fallback boot (the marker is consumed). */
export function fallbackBoot(kv: KvPort): boolean {
  if (kv.read(FALLBACK_MARK) === undefined) return false;
  kv.erase(FALLBACK_MARK);
  return true;
}

/** `opened`: this boot runs the fallback provisioning; `reboot` is called after the marker is written. */
export function createFallback(clock: ClockPort, kv: KvPort, delayMs: number, opened: boolean, reboot: () => void, close: () => void): Fallback {
  var timer = 0;
  return {
    down: function () {
      if (timer || opened) return;
      timer = clock.after(function () {
        timer = 0;
        kv.write(FALLBACK_MARK, "1");
        reboot();
      }, delayMs);
    },
    up: function () {
      if (timer) clock.cancel(timer);
      timer = 0;
      if (opened) close();
      opened = false;
    },
  };
}
