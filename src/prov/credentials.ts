/**
 * Wi-Fi credentials in flash, safe against a power cut at any byte of a write.
 *
 * Espruino's Storage.write marks the old file deleted, then writes the new header and data
 * (docs/espruino-esp32.md §3: jsfWriteFile is not atomic). So records alternate between two files (A/B):
 * a save writes sequence n+1 into the slot not holding n, and a load takes the highest sequence whose
 * CRC checks. A torn write leaves the other slot, i.e. the previous credentials.
 * Record: "<seq>,<ssid hex>,<pass hex>,<crc32 hex of the part before>". Not Wifi.save(): that stores
 * plaintext JSON in .wificfg with erase-then-write and restores only after boot code ran.
 */
import { fromHex, toHex } from "../core/bytes";
import { crcHex } from "../core/record";
import { KvPort } from "../ports/ports";

export var SLOTS = ["prov.cred.a", "prov.cred.b"];

export interface Credentials { ssid: Uint8Array; pass: Uint8Array }

function parse(rec: string | undefined): { n: number; c: Credentials } | undefined {
  if (!rec) return undefined;
  var parts = rec.split(",");
  if (parts.length !== 4) return undefined;
  var body = parts[0] + "," + parts[1] + "," + parts[2];
  if (parts[3] !== crcHex(body)) return undefined;
  var n = parseInt(parts[0]!, 10);
  if (!(n > 0)) return undefined;
  try {
    return { n: n, c: { ssid: fromHex(parts[1]!), pass: fromHex(parts[2]!) } };
  } catch (e) {
    return undefined;
  }
}

export interface CredentialStore {
  load(): Credentials | undefined;
  save(c: Credentials): void;
  erase(): void;
  /** Some record is in flash (a load that finds none valid means they are damaged). */
  stored(): boolean;
}

export function credentialStore(kv: KvPort): CredentialStore {
  function latest() {
    var a = parse(kv.read(SLOTS[0]!)), b = parse(kv.read(SLOTS[1]!));
    if (a && b) return a.n > b.n ? a : b;
    return a || b;
  }
  return {
    load: function () {
      var r = latest();
      return r && r.c;
    },
    save: function (c) {
      var r = latest(), n = r ? r.n + 1 : 1;
      var body = n + "," + toHex(c.ssid) + "," + toHex(c.pass);
      kv.write(SLOTS[n % 2]!, body + "," + crcHex(body));
    },
    erase: function () {
      kv.erase(SLOTS[0]!);
      kv.erase(SLOTS[1]!);
    },
    stored: function () {
      return kv.read(SLOTS[0]!) !== undefined || kv.read(SLOTS[1]!) !== undefined;
    },
  };
}
