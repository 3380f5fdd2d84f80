/**
 * The BLE GATT transport for protocomm (ESP-IDF protocomm/src/transports/protocomm_ble.c), above a small
 * BlePort the platform implements. One layout serves every client era:
 *   primary service 0xFFFF; characteristics 0xFF51 prov-session, 0xFF52 prov-config, 0xFF53 proto-ver
 *   (0xFF50 prov-scan, 0xFF4F prov-ctrl, 0xFF54+ custom), READ|WRITE, each with a 0x2901 description
 *   holding the endpoint name. Seed-era esp_prov addresses 0000ff5x-0000-1000-8000-00805f9b34fb directly;
 *   current esp_prov and the phone apps take the service UUID from the advert and map names via 0x2901.
 * Write-then-read: the client writes a request and reads the reply from the same characteristic.
 * A session lives as long as the connection; a failed exchange drops the link (ESP-IDF
 * "Invalid content received, killing connection").
 */
import { Logger } from "../core/log";
import { Protocomm } from "../protocomm/protocomm";

export var SERVICE_UUID16 = 0xffff;

export var ENDPOINT_UUID16: { [name: string]: number } = {
  "prov-ctrl": 0xff4f,
  "prov-scan": 0xff50,
  "prov-session": 0xff51,
  "prov-config": 0xff52,
  "proto-ver": 0xff53,
};

export interface GattChar { uuid16: number; name: string }

export interface BleEvents {
  connect(): void;
  disconnect(): void;
  /** A write to a characteristic, with the full value (the platform undoes any truncation). */
  write(uuid16: number, data: Uint8Array): void;
}

export interface BlePort {
  start(chars: GattChar[], advert: Uint8Array, ev: BleEvents): void;
  /** The value the client reads next from this characteristic. */
  setValue(uuid16: number, data: Uint8Array): void;
  /** Drops the current link. */
  disconnect(): void;
}

/** "PROV_" + last three MAC bytes in upper-case hex (ESP-IDF examples' service name). */
export function deviceName(prefix: string, mac: Uint8Array): string {
  var s = prefix;
  for (var i = mac.length - 3; i < mac.length; i++) s += (mac[i]! < 16 ? "0" : "") + mac[i]!.toString(16).toUpperCase();
  return s;
}

/**
 * Flags + complete list of 16-bit service UUIDs (0xFFFF) + complete local name, in ONE advertising
 * packet: Espruino on ESP32 sends no scan response (esp32_gap_func.c: "FIXME"), so all must fit 31 bytes.
 */
export function advertData(name: string): Uint8Array {
  var n = 3 + 4 + 2 + name.length;
  if (n > 31) throw new Error("advert: name '" + name + "' needs " + n + " bytes; one packet holds 31 (no scan response on ESP32)");
  var a = new Uint8Array(n), i = 0;
  a[i++] = 2; a[i++] = 0x01; a[i++] = 0x06;                         // LE General Discoverable, BR/EDR not supported
  a[i++] = 3; a[i++] = 0x03; a[i++] = SERVICE_UUID16 & 255; a[i++] = SERVICE_UUID16 >> 8;
  a[i++] = name.length + 1; a[i++] = 0x09;
  for (var k = 0; k < name.length; k++) a[i++] = name.charCodeAt(k);
  return a;
}

export interface BleTransport {
  sessionId(): number;
  connected(): boolean;
}

/** Values a client could read after a disconnect are replaced by this (zero-length values are ignored by NRF.updateServices). */
var CLEARED = new Uint8Array(1);

export function bleTransport(pc: Protocomm, port: BlePort, names: string[], advert: Uint8Array, log: Logger): BleTransport {
  var chars: GattChar[] = [], byUuid: { [u: number]: string } = {};
  var custom = 0xff54;
  for (var i = 0; i < names.length; i++) {
    var name = names[i]!, u = ENDPOINT_UUID16[name] || custom++;
    chars.push({ uuid16: u, name: name });
    byUuid[u] = name;
  }
  var sid = 0, linked = false, queue: { u: number; d: Uint8Array }[] = [], busy = false;

  function pump() {
    if (busy || !queue.length) return;
    var w = queue.shift()!, forSid = sid;
    busy = true;
    pc.handle(byUuid[w.u]!, forSid, w.d, function (err, resp) {
      busy = false;
      if (forSid !== sid) return pump();
      if (err) {
        log.e("Invalid content received, killing connection");
        queue = [];
        port.disconnect();
        return;
      }
      port.setValue(w.u, resp!);
      pump();
    });
  }

  port.start(chars, advert, {
    connect: function () {
      sid++;
      linked = true;
      queue = [];
      pc.open(sid);
      log.i("BLE client connected (session " + sid + ")");
    },
    disconnect: function () {
      if (!linked) return;
      linked = false;
      pc.close(sid);
      sid++;
      queue = [];
      for (var k = 0; k < chars.length; k++) port.setValue(chars[k]!.uuid16, CLEARED);
      log.i("BLE client disconnected");
    },
    write: function (u, d) {
      if (!byUuid[u] || !linked) return;
      queue.push({ u: u, d: d });
      pump();
    },
  });

  return {
    sessionId: function () {
      return sid;
    },
    connected: function () {
      return linked;
    },
  };
}
