/**
 * Composition root: the only file that picks the platform backend and wires the layers together.
 * Boot: saved credentials → station mode; none → BLE provisioning (seed ble_prov example behaviour).
 * The bundle lives in Storage `.boot0`, which ESP32.enableBLE() does not erase (it removes .bootcde,
 * .bootrst and .varimg), so the BLE-teardown reboot comes back up here.
 */
import CONFIG from "build-config";
import { bytesToStr, strToBytes } from "./core/bytes";
import { createLogger, LogSink } from "./core/log";
import { createProtocomm, Kind } from "./protocomm/protocomm";
import { security0 } from "./protocomm/security0";
import { security1 } from "./protocomm/security1";
import { Security } from "./protocomm/security";
import { createThrottle } from "./protocomm/throttle";
import { versionHandler } from "./protocomm/version";
import { credentialStore } from "./prov/credentials";
import { createManager, mask } from "./prov/manager";
import { wifiConfigHandler } from "./prov/wifi-config";
import { advertData, bleTransport, deviceName } from "./transport/ble-gatt";
import { espruinoBle } from "./platform/espruino/ble";
import {
  bleEnabled, deviceMac, disableBleAndReboot, enableBleAndReboot, espruinoClock, espruinoCrypto, espruinoKv,
  espruinoWifi, print,
} from "./platform/espruino/platform";

function start() {
  var clock = espruinoClock();
  var sink: LogSink = { print: print, now: clock.now, level: CONFIG.logLevel, color: CONFIG.logColors };
  var logApp = createLogger(sink, "app"), logProv = createLogger(sink, "app_prov");
  var kv = espruinoKv(), creds = credentialStore(kv), wifi = espruinoWifi();
  var autoStop = 0;

  var manager = createManager({
    wifi: wifi, clock: clock, log: logProv, logHandler: createLogger(sink, "app_prov_handler"), logApp: logApp,
    applyDelayMs: 1000, retryDelayMs: 1000,
    onConnected: function (c) {
      creds.save(c);
      logProv.i("WiFi credentials saved to flash");
      if (autoStop) return;
      // Keep BLE up so the client can read Connected, then free it (ble_prov: 30 s one-shot timer).
      autoStop = clock.after(CONFIG.autoStopMs, function () {
        logProv.i("Stopping provisioning");
        logProv.i("Provisioning stopped");
        logApp.i("Rebooting with BLE off to free its memory (ESP32.enableBLE(false))");
        disableBleAndReboot();
      });
    },
  });

  /** REPL helper: forget the network and provision again (BLE back on, reboot). */
  global.reprovision = function () {
    creds.erase();
    logApp.i("Credentials erased; rebooting into provisioning");
    enableBleAndReboot();
  };

  if (CONFIG.resetProvisioned) {
    creds.erase();
    logApp.i("Provisioning data erased (reset-on-boot is set)");
  }
  var saved = creds.load();
  if (saved) {
    logProv.i("Found ssid " + bytesToStr(saved.ssid));
    logProv.i("Found password " + mask(saved.pass));
    logApp.i("Starting WiFi station");
    manager.startStation(saved);
    return;
  }
  if (!bleEnabled()) {
    logApp.w("No credentials and BLE is off: enabling BLE and rebooting to provision");
    enableBleAndReboot();
    return;
  }

  logApp.i("Starting BLE provisioning");
  var cr = espruinoCrypto(CONFIG.board), pop = strToBytes(CONFIG.pop), sec: Security;
  if (CONFIG.secVer === 0) {
    sec = security0(createLogger(sink, "security0"));
  } else {
    var logSec = createLogger(sink, "security1");
    var s1 = security1({
      pop: pop, crypto: cr, clock: clock, log: logSec, slice: CONFIG.x25519Slice,
      throttle: createThrottle(kv, logSec),
    });
    s1.prepare();
    sec = s1;
  }
  var pc = createProtocomm(sec, createLogger(sink, "protocomm"));
  pc.add("prov-session", Kind.SEC);
  pc.add("prov-config", Kind.REQ, wifiConfigHandler(manager.handlers));
  pc.add("proto-ver", Kind.VER, versionHandler({
    style: CONFIG.versionStyle, fixed: CONFIG.versionString, secVer: CONFIG.secVer, noPop: !pop.length, scan: false,
  }));
  var name = deviceName(CONFIG.namePrefix, deviceMac(CONFIG.board));
  bleTransport(pc, espruinoBle(), pc.names(), advertData(name), createLogger(sink, "protocomm_ble"));
  logProv.i("Provisioning started with BLE devname : " + name);
  var qr: any = { ver: "v1", name: name, pop: CONFIG.pop, transport: "ble" };
  if (CONFIG.secVer === 0) delete qr.pop;
  logApp.i("QR payload for the provisioning app: " + JSON.stringify(qr));
}

start();
