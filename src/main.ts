/**
 * Composition root: the only file that picks the platform backend and wires the layers together.
 * Boot: saved credentials → station mode; none → provisioning over BLE, SoftAP/HTTP or both
 * (CONFIG_PROV_TRANSPORT), as ESP-IDF's ble_prov / softap_prov examples.
 * The bundle lives in Storage `.boot0`, which ESP32.enableBLE() does not erase (it removes .bootcde,
 * .bootrst and .varimg), so the BLE-teardown reboot comes back up here.
 */
import CONFIG, { X25519_LOOPS } from "build-config";
import { bytesToStr, strToBytes } from "./core/bytes";
import { createLogger, LogSink } from "./core/log";
import { createProtocomm, Kind } from "./protocomm/protocomm";
import { security0 } from "./protocomm/security0";
import { security1, Security1 } from "./protocomm/security1";
import { generatedOps, loopOps } from "./crypto/x25519";
import { Security } from "./protocomm/security";
import { createThrottle } from "./protocomm/throttle";
import { versionHandler } from "./protocomm/version";
import { credentialStore } from "./prov/credentials";
import { createManager, mask } from "./prov/manager";
import { wifiConfigHandler } from "./prov/wifi-config";
import { wifiCtrlHandler } from "./prov/wifi-ctrl";
import { SCAN_MAX_ENTRIES, wifiScanHandler } from "./prov/wifi-scan";
import { HttpTransport, httpTransport, MAX_BODY } from "./transport/http-protocomm";
import { registerAppEndpoints } from "./app/custom-endpoints";
import { espruinoHttp, espruinoSoftAp } from "./platform/espruino/http";
import { advertData, bleTransport, deviceName } from "./transport/ble-gatt";
import { espruinoBle, ESPRUINO_LOCAL_MTU } from "./platform/espruino/ble";
import {
  bleEnabled, deviceMac, disableBleAndReboot, enableBleAndReboot, espruinoClock, espruinoCrypto, espruinoKv,
  espruinoWifi, print, rebootNow,
} from "./platform/espruino/platform";

function start() {
  var clock = espruinoClock();
  var sink: LogSink = { print: print, now: clock.now, level: CONFIG.logLevel, color: CONFIG.logColors };
  var logApp = createLogger(sink, "app"), logProv = createLogger(sink, "app_prov");
  var kv = espruinoKv(), creds = credentialStore(kv), wifi = espruinoWifi();
  var autoStop = 0;
  // Set once the transports exist (below); the manager's callbacks run only after that.
  var stopProvisioning = function () {}, startAp = function () {};

  var manager = createManager({
    wifi: wifi, clock: clock, log: logProv, logHandler: createLogger(sink, "app_prov_handler"), logApp: logApp,
    applyDelayMs: 1000, retryDelayMs: 1000,
    onConnected: function (c) {
      creds.save(c);
      logProv.i("WiFi credentials saved to flash");
      if (autoStop) return;
      // Keep the transports up so the client can read Connected, then stop them (ble_prov: 30 s one-shot timer).
      autoStop = clock.after(function () {
        autoStop = 0;
        stopProvisioning();
      }, CONFIG.autoStopMs);
    },
    onFailed: function () {
      if (!CONFIG.board.apsta && CONFIG.transport !== "ble") startAp();
    },
    onReprov: function () {
      creds.erase();
      if (autoStop) clock.cancel(autoStop);
      autoStop = 0;
    },
  });

  /** REPL helper: forget the network and provision again (reboot; BLE back on when BLE provisions). */
  global.reprovision = function () {
    creds.erase();
    logApp.i("Credentials erased; rebooting into provisioning");
    if (CONFIG.transport === "softap") rebootNow();
    else enableBleAndReboot();
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
  var useBle = CONFIG.transport !== "softap", useAp = CONFIG.transport !== "ble";
  if (useBle && !bleEnabled()) {
    logApp.w("No credentials and BLE is off: enabling BLE and rebooting to provision");
    enableBleAndReboot();
    return;
  }
  if (!useBle && bleEnabled()) {
    // BLE holds about 1,800-2,000 JsVars that a Security 1 session needs (jswrap_esp32.c enableBLE doc).
    logApp.i("SoftAP provisioning: turning BLE off to free its memory (one reboot)");
    disableBleAndReboot();
    return;
  }
  if (useBle && CONFIG.board.bleWriteAck === "before-js") {
    logApp.w("BLE protocomm cannot work on Espruino " + CONFIG.board.espruino + ": it acks a GATT write before JS runs " +
      "(the client reads its own request). Use CONFIG_PROV_TRANSPORT=softap");
  }

  logApp.i("Starting " + (useBle && useAp ? "BLE and SoftAP" : useBle ? "BLE" : "SoftAP") + " provisioning");
  var cr = espruinoCrypto(CONFIG.board), pop = strToBytes(CONFIG.pop), sec: Security, s1: Security1 | undefined;
  if (CONFIG.secVer === 0) {
    sec = security0(createLogger(sink, "security0"));
  } else {
    var logSec = createLogger(sink, "security1");
    s1 = security1({
      pop: pop, crypto: cr, clock: clock, log: logSec, slice: CONFIG.x25519Slice, ops: X25519_LOOPS ? loopOps : generatedOps,
      throttle: createThrottle(kv, logSec),
    });
    // The device key comes from the RNG, which ESP-IDF calls a PRNG unless a radio runs (esp_system.h esp_random):
    // BLE runs from boot when it provisions; Wi-Fi only once the SoftAP has started (callback below).
    if (useBle) s1.prepare();
    sec = s1;
  }
  var pc = createProtocomm(sec, createLogger(sink, "protocomm"));
  var http: HttpTransport | undefined, ap = espruinoSoftAp(), pass = CONFIG.softapPassword;
  pc.add("prov-ctrl", Kind.REQ, wifiCtrlHandler(manager.ctrl));
  pc.add("prov-scan", Kind.REQ, wifiScanHandler({
    wifi: wifi, log: createLogger(sink, "wifi_prov_scan"), maxEntries: SCAN_MAX_ENTRIES,
    // Over BLE a reply must fit one ATT read (Espruino ignores read offsets); HTTP takes any size. Espruino
    // sets the local MTU to 500 (targets/esp32/BLE/esp32_bluetooth_utils.c setMtu), so no link's MTU is
    // above that, whatever PROV_BLE_MTU says.
    pageBytes: function (sid) {
      return http && sid === http.sessionId() ? MAX_BODY : Math.min(CONFIG.bleMtu, ESPRUINO_LOCAL_MTU) - 1;
    },
  }));
  pc.add("prov-session", Kind.SEC);
  pc.add("prov-config", Kind.REQ, wifiConfigHandler(manager.handlers));
  pc.add("proto-ver", Kind.VER, versionHandler({
    style: CONFIG.versionStyle, fixed: CONFIG.versionString, secVer: CONFIG.secVer, noPop: !pop.length, scan: true,
  }));
  registerAppEndpoints({
    add: function (name, handler) {
      pc.add(name, Kind.REQ, handler);
    },
  }, createLogger(sink, "app_custom"));

  var name = deviceName(CONFIG.namePrefix, deviceMac(CONFIG.board));
  if (useBle) {
    bleTransport(pc, espruinoBle(), pc.names(), advertData(name), createLogger(sink, "protocomm_ble"));
    logProv.i("Provisioning started with BLE devname : " + name);
  }
  if (useAp) {
    var logAp = createLogger(sink, "wifi_prov_softap");
    if (!CONFIG.board.apsta) {
      logAp.w("No AP+STA on this chip: the AP goes down while the station connects, and comes back if that fails");
    }
    startAp = function () {
      ap.start(name, pass, function (err) {
        if (err) logAp.e("SoftAP did not start: " + err);
        else {
          logAp.i("SoftAP started at 192.168.4.1");
          if (s1) s1.prepare();
        }
      });
    };
    startAp();
    http = httpTransport(pc, espruinoHttp(), {
      log: createLogger(sink, "protocomm_httpd"), after: clock.after, cancel: clock.cancel,
      newSessionId: function () {
        var r = cr.random(4), id = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
        return id < 65536 ? id + 65536 : id; // BLE sessions count up from 1
      },
    });
    logProv.i("SoftAP Provisioning started with SSID '" + name + "', Password '" + pass + "'");
  }
  var qr: any = { ver: "v1", name: name, pop: CONFIG.pop, transport: useAp ? "softap" : "ble", security: CONFIG.secVer };
  if (CONFIG.secVer === 0) delete qr.pop;
  if (useAp && pass) qr.password = pass;
  logApp.i("QR payload for the provisioning app: " + JSON.stringify(qr));

  stopProvisioning = function () {
    logProv.i("Stopping provisioning");
    // No session can come any more: the key pair made for the next one would only cost time and memory.
    if (s1) s1.stop();
    if (http) {
      http.stop();
      ap.stop();
    }
    logProv.i("Provisioning stopped");
    if (useBle) {
      logApp.i("Rebooting with BLE off to free its memory (ESP32.enableBLE(false))");
      disableBleAndReboot();
    }
  };
}

start();
