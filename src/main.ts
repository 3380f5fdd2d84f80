/**
 * Composition root: the only file that picks the platform backend and wires the layers together.
 * Boot: a user program kept across the last BLE switch is put back; the application API (global.prov)
 * and the reset button are set up; saved credentials → station mode (with the SoftAP fallback); none →
 * provisioning over BLE, SoftAP/HTTP or both (CONFIG_PROV_TRANSPORT), as ESP-IDF's ble_prov / softap_prov.
 * The bundle lives in Storage `.boot0`, which ESP32.enableBLE() does not erase (it removes .bootcde,
 * .bootrst and .varimg), so the BLE-teardown reboot comes back up here.
 */
import CONFIG, { CAPTIVE_DNS, SEC2_VERIFIER, SEC_VER, STA_FALLBACK, WEB_PORTAL, X25519_LOOPS } from "build-config";
import { bytesToStr, fromHex, strToBytes } from "./core/bytes";
import { createLogger, LogSink } from "./core/log";
import { createProtocomm, Kind } from "./protocomm/protocomm";
import { security0 } from "./protocomm/security0";
import { security1 } from "./protocomm/security1";
import { security2 } from "./protocomm/security2";
import { nBytes, r2Bytes } from "./protocomm/srp";
import { blockOps } from "./crypto/srp-block";
import { boardVerifier } from "./prov/sec2-verifier";
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
import { espruinoHttp, espruinoPage, espruinoSoftAp } from "./platform/espruino/http";
import { PAGE_FILE, PORTAL_URL, webPortal } from "./transport/web-portal";
import { dnsResponder } from "./transport/captive-dns";
import { espruinoUdp } from "./platform/espruino/dns";
import { advertData, bleTransport, deviceName } from "./transport/ble-gatt";
import { espruinoBle, ESPRUINO_LOCAL_MTU } from "./platform/espruino/ble";
import {
  bleEnabled, deviceMac, espruinoClock, espruinoCrypto, espruinoKv, espruinoWifi, print, rebootNow,
  restoreUserProgram, rngBytes, switchBleAndReboot, watchHold,
} from "./platform/espruino/platform";
import { createProv, notify } from "./app/api";
import { app } from "./app/app";
import { drawPop, savedPop } from "./prov/pop";
import { createFallback, fallbackBoot } from "./prov/fallback";

function start() {
  var clock = espruinoClock();
  var sink: LogSink = { print: print, now: clock.now, level: CONFIG.logLevel, color: CONFIG.logColors };
  var logApp = createLogger(sink, "app"), logProv = createLogger(sink, "app_prov");
  // First of all, while Espruino has not read .bootcde yet: a user program kept across our last BLE switch.
  var kept = restoreUserProgram();
  if (kept.length) logApp.i("User program " + kept.join(", ") + " restored after the firmware's BLE switch");
  var kv = espruinoKv(), creds = credentialStore(kv), wifi = espruinoWifi();
  var autoStop = 0;
  var name = deviceName(CONFIG.namePrefix, deviceMac(CONFIG.board));
  // Set once the transports exist (below); the manager's callbacks run only after that.
  var stopProvisioning = function () {}, startAp = function () {};

  /** Forget the network and provision again (reboot; BLE back on when BLE provisions). */
  function reprovision(why: string) {
    creds.erase();
    logApp.i(why + "; rebooting into provisioning");
    if (CONFIG.transport === "softap") rebootNow();
    else if (!switchBleAndReboot(true)) logApp.e("Storage refused a copy of the user program: BLE left off, reboot by hand");
  }
  var prov = createProv(name, function () {
    reprovision("Credentials erased");
  });
  var random = function (n: number) {
    return rngBytes(n, CONFIG.board.rngReg);
  };
  // A random PoP is drawn while a radio runs (src/prov/pop.ts): now if BLE is on (a first boot), else below.
  var popText = CONFIG.popMode === "random" ? savedPop(kv) : CONFIG.pop;
  if (popText === undefined && bleEnabled()) popText = drawPop(kv, random);
  prov.pop = popText || "";
  if (CONFIG.popMode === "random") prov.newPop = function () {
    var p = drawPop(kv, random);
    logApp.i("New proof of possession " + p + " saved (used from the next provisioning start)");
    return (prov.pop = p);
  };
  global.prov = prov;
  global.reprovision = prov.reprovision;

  // A fallback boot provisions on the SoftAP only. STA_FALLBACK is a build-time constant: a build without the
  // fallback has none of its code (and a BLE-only build no HTTP transport).
  var fellBack = STA_FALLBACK && fallbackBoot(kv);
  var useBle = CONFIG.transport !== "softap" && !fellBack, useAp = CONFIG.transport !== "ble" || fellBack;
  var fallback = STA_FALLBACK ? createFallback(clock, kv, CONFIG.staFallbackMs, fellBack, function () {
    logApp.w("No connection for " + CONFIG.staFallbackMs / 1000 + " s: rebooting to open provisioning on the SoftAP while the station retries");
    rebootNow();
  }, function () {
    // The old network came back: close the fallback provisioning, unless new credentials are being shown Connected.
    if (!autoStop) stopProvisioning();
  }) : undefined;

  var manager = createManager({
    wifi: wifi, clock: clock, log: logProv, logHandler: createLogger(sink, "app_prov_handler"), logApp: logApp,
    applyDelayMs: 1000, retryDelayMs: 1000, maxRetryMs: 60000,
    emit: function (ev, d) {
      notify(prov, clock.after, ev, d);
      if (fallback && ev === "connected") fallback.up();
      if (fallback && ev === "disconnected") fallback.down();
    },
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
      if (!CONFIG.board.apsta && useAp) startAp();
    },
    onReprov: function () {
      creds.erase();
      if (autoStop) clock.cancel(autoStop);
      autoStop = 0;
    },
  });

  if (CONFIG.resetGpio >= 0) {
    watchHold(CONFIG.resetGpio, CONFIG.resetHoldMs, function (held) {
      logApp.i("Reset button GPIO" + CONFIG.resetGpio + (held ? " held " : " released before ") + CONFIG.resetHoldMs / 1000 + " s" +
        (held ? ": factory reset" : ": no reset"));
      if (held) reprovision("Saved network erased (PoP and user program kept)");
    });
  }
  app(prov);

  if (CONFIG.resetProvisioned) {
    creds.erase();
    logApp.i("Provisioning data erased (reset-on-boot is set)");
  }
  var saved = creds.load();
  if (saved) {
    logProv.i("Found ssid " + bytesToStr(saved.ssid));
    logProv.i("Found password " + mask(saved.pass));
    logApp.i("Starting WiFi station");
    prov.state = "connecting";
    manager.startStation(saved);
    if (fallback) fallback.down();
    if (!fellBack) return;
    // The fallback boot: provisioning on the SoftAP next to the station (Wi-Fi runs: the RNG is entropic).
    logApp.w("Fallback: provisioning on the SoftAP while the station retries its saved network");
    if (popText === undefined) popText = prov.pop = drawPop(kv, random);
  } else {
    if (creds.stored()) logApp.e("Saved Wi-Fi credentials are damaged (CRC mismatch): starting provisioning");
    if (useBle && !bleEnabled()) {
      logApp.w("No credentials and BLE is off: enabling BLE and rebooting to provision");
      if (!switchBleAndReboot(true)) logApp.e("Storage refused a copy of the user program: BLE left off; free some Storage");
      return;
    }
    if (!useBle && bleEnabled()) {
      // BLE holds about 1,800-2,000 JsVars that a Security 1 session needs (jswrap_esp32.c enableBLE doc).
      logApp.i("SoftAP provisioning: turning BLE off to free its memory (one reboot)");
      if (switchBleAndReboot(false)) return;
      logApp.w("Storage refused a copy of the user program: BLE stays on");
    }
  }
  if (useBle && CONFIG.board.bleWriteAck === "before-js") {
    logApp.w("BLE protocomm cannot work on Espruino " + CONFIG.board.espruino + ": it acks a GATT write before JS runs " +
      "(the client reads its own request). Use CONFIG_PROV_TRANSPORT=softap");
  }

  var cr = espruinoCrypto(CONFIG.board), ap = espruinoSoftAp(), pass = CONFIG.softapPassword;
  var logAp = createLogger(sink, "wifi_prov_softap");
  startAp = function () {
    ap.start(name, pass, function (err) {
      if (err) logAp.e("SoftAP did not start: " + err);
      else {
        logAp.i("SoftAP started at 192.168.4.1");
        if (dns) dns.listen(53, dnsResponder("\xC0\xA8\x04\x01"));
        // The device key pair is drawn now that Wi-Fi runs (see security1 below).
        if (s1) s1.prepare();
      }
      // A random PoP not drawn yet (BLE off, no station): drawn now that the radio runs, served after a reboot.
      if (popText === undefined) {
        drawPop(kv, random);
        logApp.i("Proof of possession drawn; rebooting to serve it");
        rebootNow();
      }
    });
  };
  if (popText === undefined) {
    startAp();
    return;
  }
  logApp.i("Starting " + (useBle && useAp ? "BLE and SoftAP" : useBle ? "BLE" : "SoftAP") + " provisioning");
  // s1: the scheme whose keys are made ahead from the RNG (Security 1 or 2), once a radio runs.
  var pop = strToBytes(popText), sec: Security, s1: { prepare(): void; stop(): void } | undefined;
  if (SEC_VER === 0) {
    sec = security0(createLogger(sink, "security0"));
  } else if (SEC_VER === 2) {
    var logS2 = createLogger(sink, "security2"), ops = blockOps(cr.mpi!, nBytes(), r2Bytes(), cr.defer, clock.after);
    var s2 = security2({
      verifier: CONFIG.popMode === "fixed" ? function (cb) {
        var f = SEC2_VERIFIER()!;
        cb({ salt: fromHex(f.salt), v: fromHex(f.v), kv: fromHex(f.kv) });
      } : boardVerifier(kv, ops, cr.sha512, random, CONFIG.sec2User, popText, logS2),
      ops: ops, crypto: cr, clock: clock, log: logS2, throttle: createThrottle(kv, logS2), patchVer: 1, user: CONFIG.sec2User,
    });
    if (useBle) s2.prepare();
    sec = s1 = s2;
  } else {
    var logSec = createLogger(sink, "security1");
    var s1s = security1({
      pop: pop, crypto: cr, clock: clock, log: logSec, slice: CONFIG.x25519Slice, ops: X25519_LOOPS ? loopOps : generatedOps,
      throttle: createThrottle(kv, logSec),
    });
    // The device key comes from the RNG, which ESP-IDF calls a PRNG unless a radio runs (esp_system.h esp_random):
    // BLE runs from boot when it provisions; Wi-Fi only once the SoftAP has started (callback below).
    if (useBle) s1s.prepare();
    sec = s1 = s1s;
  }
  var pc = createProtocomm(sec, createLogger(sink, "protocomm"));
  var http: HttpTransport | undefined;
  // The captive DNS answers on UDP 53 while the AP is up: every A query → 192.168.4.1.
  var dns = CAPTIVE_DNS && useAp ? espruinoUdp() : undefined;
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
    add: function (n, handler) {
      pc.add(n, Kind.REQ, handler);
    },
  }, createLogger(sink, "app_custom"));

  if (useBle) {
    bleTransport(pc, espruinoBle(), pc.names(), advertData(name), createLogger(sink, "protocomm_ble"));
    logProv.i("Provisioning started with BLE devname : " + name);
  }
  if (useAp) {
    if (!CONFIG.board.apsta) {
      logAp.w("No AP+STA on this chip: the AP goes down while the station connects, and comes back if that fails");
    }
    startAp();
    http = httpTransport(pc, espruinoHttp(), {
      log: createLogger(sink, "protocomm_httpd"), after: clock.after, cancel: clock.cancel,
      newSessionId: function () {
        var r = cr.random(4), id = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
        return id < 65536 ? id + 65536 : id; // BLE sessions count up from 1
      },
      get: WEB_PORTAL ? webPortal(espruinoPage(PAGE_FILE), createLogger(sink, "web_portal")) : undefined,
    });
    logProv.i("SoftAP Provisioning started with SSID '" + name + "', Password '" + pass + "'");
  }
  // Security 2 as ESP-IDF's wifi_prov_mgr example prints it: "username" before "pop"; a fixed password is not in the
  // firmware (only its verifier), so its QR payload has no pop, as the example's production mode.
  var qr: any = { ver: "v1", name: name, username: CONFIG.sec2User, pop: popText, transport: useAp ? "softap" : "ble", security: CONFIG.secVer };
  if (CONFIG.secVer !== 2) delete qr.username;
  if (CONFIG.secVer === 0 || (CONFIG.secVer === 2 && !popText)) delete qr.pop;
  if (useAp && pass) qr.password = pass;
  logApp.i("QR payload for the provisioning app: " + JSON.stringify(qr));
  // The fragment carries the PoP to the page without ever reaching the board.
  if (WEB_PORTAL && useAp) logApp.i((CONFIG.portalQr ? "QR payload for the provisioning page: " : "Provisioning page: ") + PORTAL_URL +
    (CONFIG.secVer && popText ? "#pop=" + encodeURIComponent(popText) : ""));
  notify(prov, clock.after, "start", { name: name, transport: useBle && useAp ? "both" : useBle ? "ble" : "softap" });

  stopProvisioning = function () {
    stopProvisioning = function () {};
    logProv.i("Stopping provisioning");
    // No session can come any more: the key pair made for the next one would only cost time and memory.
    if (s1) s1.stop();
    if (http) {
      http.stop();
      if (dns) dns.close();
      ap.stop();
    }
    logProv.i("Provisioning stopped");
    notify(prov, clock.after, "end", {});
    if (useBle) {
      logApp.i("Rebooting with BLE off to free its memory (ESP32.enableBLE(false))");
      if (!switchBleAndReboot(false)) logApp.w("Storage refused a copy of the user program: BLE stays on");
    }
  };
}

start();
