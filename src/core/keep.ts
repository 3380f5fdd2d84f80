/**
 * Keeps the user's program across the firmware's own ESP32.enableBLE() reboots. enableBLE calls
 * jsfRemoveCodeFromFlash (Espruino targets/esp32/jswrap_esp32.c → src/jsflash.c), which erases .bootcde,
 * .bootrst and .varimg, where the Web IDE's "Save to Flash" (E.setBootCode) puts a program.
 *
 * Before such a call, `keep` copies each program file to "prov.keep.<n>" and then writes the record
 * "prov.keep" = "<name>,<length>,<crc32>;…" plus its own CRC, written last: the record exists only once
 * every copy is complete. At boot, `restore` (run by .boot0, which Espruino evaluates before it even reads
 * .bootcde: jsfLoadBootCodeFromFlash reads each file at its turn) writes back each file that is missing or
 * differs, then erases the record, then the copies. A power cut at any byte leaves either no record (the
 * program was not erased yet: nothing to do) or a whole record and whole copies (restore runs again).
 * A program the user erases himself is never brought back: the copies exist only between the firmware's
 * enableBLE and the next boot. CRCs of the program use the native E.CRC32 (no copy of it in RAM).
 */
import { crcHex } from "./record";
import { KvPort } from "../ports/ports";

/** The program files jsfRemoveCodeFromFlash erases (.varimg, a RAM image of save(), is not kept). */
export var PROGRAM_FILES = [".bootcde", ".bootrst"];
export var KEEP_RECORD = "prov.keep";

export interface KeepOptions { kv: KvPort; crc(s: string): number }

/** Copies the program files; false (with nothing half-kept in effect) if Storage refused a write. */
export function keep(o: KeepOptions): boolean {
  var kv = o.kv, body = "";
  try {
    kv.erase(KEEP_RECORD);
    for (var i = 0; i < PROGRAM_FILES.length; i++) {
      var s = kv.read(PROGRAM_FILES[i]!);
      if (!s) continue;
      kv.write(KEEP_RECORD + "." + i, s);
      body += (body ? ";" : "") + i + "," + s.length + "," + o.crc(s);
    }
    if (body) kv.write(KEEP_RECORD, body + "|" + crcHex(body));
    return true;
  } catch (e) {
    return false;
  }
}

/** Puts kept program files back; returns the names restored (logged by the caller). */
export function restore(o: KeepOptions): string[] {
  var kv = o.kv, rec = kv.read(KEEP_RECORD), done: string[] = [];
  var bar = rec ? rec.lastIndexOf("|") : -1;
  if (rec && bar > 0 && rec.substr(bar + 1) === crcHex(rec.substr(0, bar))) {
    var items = rec.substr(0, bar).split(";");
    for (var k = 0; k < items.length; k++) {
      var f = items[k]!.split(","), i = +f[0]!, copy = kv.read(KEEP_RECORD + "." + i), name = PROGRAM_FILES[i];
      if (!name || !copy || copy.length !== +f[1]! || o.crc(copy) !== +f[2]!) continue;
      if (kv.read(name) !== copy) {
        kv.write(name, copy);
        done.push(name);
      }
    }
  }
  // The record goes first: without it the copies are leftovers, whatever else a cut left.
  if (rec) kv.erase(KEEP_RECORD);
  for (var j = 0; j < PROGRAM_FILES.length; j++) if (kv.read(KEEP_RECORD + "." + j) !== undefined) kv.erase(KEEP_RECORD + "." + j);
  return done;
}
