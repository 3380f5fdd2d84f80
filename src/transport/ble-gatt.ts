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
  /** Drops the current link (whichever it is: the radio may have moved on to a new central). */
  disconnect(): void;
  /** Runs fn after the Bluetooth events already queued to JS (connect, disconnect, writes). */
  afterQueuedEvents(fn: () => void): void;
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

export function bleTransport(pc: Protocomm, port: BlePort, names: string[], advert: Uint8Array, log: Logger): BleTransport {
  var chars: GattChar[] = [], byUuid: { [u: number]: string } = {};
  var custom = 0xff54;
  for (var i = 0; i < names.length; i++) {
    var name = names[i]!, u = ENDPOINT_UUID16[name] || custom++;
    chars.push({ uuid16: u, name: name });
    byUuid[u] = name;
  }
  // sid numbers connections; `req` numbers exchanges, so that a reply or a failure that comes back after its
  // connection ended (X25519 is sliced) is recognised as stale and neither answers nor drops the next link.
  var sid = 0, linked = false, queue: { u: number; d: Uint8Array }[] = [], busy = false, req = 0, dead = 0;

  /**
   * Drops the link of session forSid after the Bluetooth events already queued have run. NRF.disconnect()
   * acts on whatever link is up *now* (libs/bluetooth/jswrap_bluetooth.c jswrap_ble_disconnect uses the one
   * m_peripheral_conn_handle), while this JS may still be working for a connection whose disconnect event
   * is waiting in the queue behind it, with the next central already connected. Events are queued in order
   * (esp32_gatts_func.c emitNRFEvent → jsiQueueEvents), so by the time the second hop runs the session id
   * is current, unless a central dropped AND reconnected within one event dispatch (a few ms; a reconnect
   * needs an advertising event and a connection setup first).
   */
  function kill(forSid: number) {
    dead = forSid;
    queue = [];
    // Two hops: events the Bluetooth task queues while this JS item still runs (a central that dropped and
    // reconnected meanwhile) land behind the first hop, and ahead of the second.
    port.afterQueuedEvents(function () {
      port.afterQueuedEvents(function () {
        if (forSid !== sid || !linked) return; // that link is already gone: leave the new one alone
        log.e("Invalid content received, killing connection");
        port.disconnect();
        // Stock 2v29 cannot drop a phone (NRF.disconnect closes the GATT client only): the link stays and
        // its next writes start a new exchange, as before the failure.
        dead = 0;
      });
    });
  }

  function pump() {
    if (busy || !queue.length) return;
    var w = queue.shift()!, forSid = sid, my = ++req;
    busy = true;
    pc.handle(byUuid[w.u]!, forSid, w.d, function (err, resp) {
      if (my !== req) return; // the connection ended meanwhile; its exchange was abandoned
      busy = false;
      if (forSid !== sid) return pump();
      if (err) return kill(forSid);
      port.setValue(w.u, resp!);
      pump();
    });
  }

  /** Abandons the exchange in progress (its late reply is ignored) and the queued writes. */
  function abandon() {
    req++;
    busy = false;
    queue = [];
  }

  port.start(chars, advert, {
    connect: function () {
      sid++;
      linked = true;
      abandon();
      pc.open(sid);
      log.i("BLE client connected (session " + sid + ")");
    },
    disconnect: function () {
      if (!linked) return;
      linked = false;
      pc.close(sid);
      sid++;
      abandon();
      // Values are NOT cleared here: this event can run after the next central has connected and written
      // (the JS queue lags the radio), and a value stored now would answer that write in its place. A value
      // is only ever stored as the reply to the write it answers; a client reading without writing sees the
      // last reply of an ended session: ciphertext under its key (security 1) or what any client may ask
      // for itself (security 0).
      log.i("BLE client disconnected");
    },
    write: function (u, d) {
      if (!byUuid[u] || !linked || dead === sid) return; // nothing more is taken from a link being dropped
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
