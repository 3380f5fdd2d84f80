/**
 * BlePort on Espruino's NRF object, ESP32 port (targets/esp32/BLE/esp32_gatts_func.c):
 * - characteristics are registered as 16-bit UUIDs whatever is given; updateServices looks them up by
 *   16-bit UUID only, so everything here uses "0xFFxx" keys;
 * - description → a read-only 0x2901 descriptor (15 characters max: endpoint names fit);
 * - `onWrite` runs later from the JS queue with data cut to 61 bytes (jsdevices.h IOEVENT_MAX_LEN 64 − 3),
 *   while the full value was stored by the Bluetooth task: read it back from E.internal["BLE_CHAR_V"+idx]
 *   (idx = characteristic order in setServices), checking it still starts with the event's bytes;
 * - uart:false removes the Nordic UART service so the console stays on the serial port.
 */
import { BleEvents, BlePort, GattChar, SERVICE_UUID16 } from "../../transport/ble-gatt";

var ONWRITE_MAX = 61;
/** esp_ble_gatt_set_local_mtu(500) at init (targets/esp32/BLE/esp32_bluetooth_utils.c setMtu): the largest MTU a link gets. */
export var ESPRUINO_LOCAL_MTU = 500;

function key(u: number): string {
  return "0x" + u.toString(16).toUpperCase();
}

function fullValue(idx: number, evt: Uint8Array): Uint8Array | undefined {
  if (evt.length < ONWRITE_MAX) return evt;
  var internal = E.internal;
  var v = internal && internal["BLE_CHAR_V" + idx.toString(16)];
  if (v === undefined) return undefined;
  var full = E.toUint8Array(v);
  for (var i = 0; i < evt.length; i++) if (full[i] !== evt[i]) return undefined; // overwritten by a later write
  return full;
}

export function espruinoBle(): BlePort {
  var svc = key(SERVICE_UUID16), laterFns: (() => void)[] = [];
  return {
    start: function (chars: GattChar[], advert: Uint8Array, ev: BleEvents) {
      var services: any = {}, s: any = (services[svc] = {});
      chars.forEach(function (c, idx) {
        s[key(c.uuid16)] = {
          value: [0],
          readable: true,
          writable: true,
          description: c.name,
          onWrite: function (evt: { data: ArrayBuffer }) {
            var full = fullValue(idx, new Uint8Array(evt.data));
            if (full) ev.write(c.uuid16, full);
          },
        };
      });
      NRF.on("connect", function () {
        ev.connect();
      });
      NRF.on("disconnect", function () {
        ev.disconnect();
      });
      NRF.on("provLater", function () {
        var fns = laterFns;
        laterFns = [];
        for (var k = 0; k < fns.length; k++) fns[k]!();
      });
      NRF.setServices(services, { uart: false });
      // Raw bytes: the 2v29 ESP32 advert builder cannot list service UUIDs from an object.
      var raw: number[] = [];
      for (var i = 0; i < advert.length; i++) raw.push(advert[i]!);
      NRF.setAdvertising(raw, {});
    },
    setValue: function (u, data) {
      var upd: any = {}, s: any = (upd[svc] = {});
      s[key(u)] = { value: data };
      NRF.updateServices(upd);
    },
    afterQueuedEvents: function (fn) {
      // Object.emit queues its listeners at the end of the JS event list (src/jswrap_object.c
      // jswrap_object_emit → jsiQueueEvents), behind NRF connect/disconnect events already queued by the
      // Bluetooth task. setTimeout would not do: jsiIdle runs due timers before that list (jsinteractive.c).
      if (!laterFns.length) NRF.emit("provLater");
      laterFns.push(fn);
    },
    disconnect: function () {
      // On stock ESP32 this closes the GATT *client* only (jsble_disconnect → gattc); a patched firmware
      // that defers write responses also drops the peripheral link.
      NRF.disconnect();
    },
  };
}
