/**
 * A proof of possession of its own for each board (CONFIG_PROV_POP_MODE="random"; ESP-IDF's provisioning
 * docs recommend a unique PoP per device). Drawn once from the hardware RNG and kept in flash as a
 * power-cut-safe A/B record (src/core/record.ts), so it survives reboots and `npm run flash` of new firmware
 * (which writes only .boot0): a printed label stays valid. Only `npm run flash -- --erase-pop` or
 * `prov.newPop()` at the REPL replace it.
 *
 * Entropy: the ESP32's RNG register (WDEV_RND_REG, ESP-IDF components/soc/esp32/include/soc/wdev_reg.h:
 * 0x60035144, read there and not through its DPORT-bus alias 0x3FF75144, which the DPORT read erratum of chip
 * revisions before 3 can corrupt) gives true random numbers only while Wi-Fi or
 * Bluetooth runs (components/esp_hw_support/include/esp_random.h). The firmware therefore draws the PoP
 * only once the radio runs: when its SoftAP is up, or at boot of a BLE-only build (BLE is on by then).
 */
import { readRecord, writeRecord } from "../core/record";
import { KvPort } from "../ports/ports";

export var POP_SLOTS = ["prov.pop.a", "prov.pop.b"];
/** 32 symbols (no i, l, o, u): 5 bits per character, easy to type from a label. */
var ALPHABET = "abcdefghjkmnpqrstvwxyz0123456789";
/** 10 characters = 50 bits. */
export var POP_CHARS = 10;

export function savedPop(kv: KvPort): string | undefined {
  var r = readRecord(kv, POP_SLOTS);
  return r ? r.body : undefined;
}

/** Draws a PoP from `random` (the hardware RNG), saves it and returns it. */
export function drawPop(kv: KvPort, random: (n: number) => Uint8Array): string {
  var b = random(POP_CHARS), s = "";
  for (var i = 0; i < POP_CHARS; i++) s += ALPHABET.charAt(b[i]! & 31);
  writeRecord(kv, POP_SLOTS, s);
  return s;
}
