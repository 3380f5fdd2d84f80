/**
 * Small records in flash that survive a power cut at any byte of a write: Espruino's Storage.write marks
 * the old file deleted, then writes the new header and data (src/jsflash.c jsfWriteFile is not atomic), so
 * a record alternates between two files and carries a sequence number and a CRC-32. A read takes the valid
 * record with the highest sequence; a torn write leaves the other file, i.e. the previous record.
 * Format: "<seq>,<body>,<crc32 hex of '<seq>,<body>'>" (the body may contain commas).
 */
import { crc32, strToBytes } from "./bytes";
import { KvPort } from "../ports/ports";

/** 8 hex digits; built from 16-bit halves so no number above 2^31 is printed (Espruino ints are int32). */
export function crcHex(s: string): string {
  var c = crc32(strToBytes(s));
  return ("0000" + (c >>> 16).toString(16)).slice(-4) + ("0000" + (c & 0xffff).toString(16)).slice(-4);
}

export interface SavedRecord { seq: number; body: string }

function parse(rec: string | undefined): SavedRecord | undefined {
  if (!rec) return undefined;
  var a = rec.indexOf(","), z = rec.lastIndexOf(",");
  if (a < 1 || z <= a) return undefined;
  if (rec.substr(z + 1) !== crcHex(rec.substr(0, z))) return undefined;
  var seq = parseInt(rec.substr(0, a), 10);
  return seq > 0 ? { seq: seq, body: rec.substr(a + 1, z - a - 1) } : undefined;
}

export function readRecord(kv: KvPort, slots: string[]): SavedRecord | undefined {
  var a = parse(kv.read(slots[0]!)), b = parse(kv.read(slots[1]!));
  if (a && b) return a.seq > b.seq ? a : b;
  return a || b;
}

export function writeRecord(kv: KvPort, slots: string[], body: string): void {
  var r = readRecord(kv, slots), seq = r ? r.seq + 1 : 1, head = seq + "," + body;
  kv.write(slots[seq % 2]!, head + "," + crcHex(head));
}
