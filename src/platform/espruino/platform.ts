/**
 * Espruino implementations of the ports (src/ports/ports.ts). The only folder that touches Espruino
 * globals; test-host/sim models the same globals.
 */
import { aes256EncryptBlocks, aes256Expand } from "../../crypto/aes";
import { sha256 } from "../../crypto/sha256";
import { sha512 } from "../../crypto/sha512";
import { ClockPort, CryptoPort, KvPort, ScanEntry, WifiEvents, WifiPort } from "../../ports/ports";
import { BoardInfo } from "./board";
import { Base } from "../../crypto/esp32-rsa-regs";
import { keep, restore } from "../../core/keep";

/**
 * n bytes from the RNG register. It is entropic while the radio is on; E.hwRand/Math.random are a fixed-seed
 * PRNG on ESP32 (jshardware.c jshGetRandomNumber → rand(), jsutils.c seeds 0xDEADBEEF/0xCAFEBABE).
 */
export function rngBytes(n: number, reg: number): Uint8Array {
  var out = new Uint8Array(n);
  for (var i = 0; i < n; i += 4) {
    var r = peek32(reg);
    for (var k = 0; k < 4 && i + k < n; k++) out[i + k] = (r >>> (8 * k)) & 255;
  }
  return out;
}

export function espruinoCrypto(board: BoardInfo): CryptoPort {
  var C = board.crypto ? require("crypto") : undefined;
  return {
    random: function (n) {
      return rngBytes(n, board.rngReg);
    },
    // board.crypto is baked in at build time and rollup folds these conditions, so a board with native
    // crypto ships no JS SHA-256/AES (≈ 2.3 KB of minified bundle).
    sha256: board.crypto ? function (d) {
      return new Uint8Array(C!.SHA256(d));
    } : sha256,
    // The ESP32 build has SHA-512 too (Espruino boards/ESP32.py 'SHA512' → USE_SHA512, libs/crypto/jswrap_crypto.c):
    // thousands of times faster than the JS one, which only a board without crypto ships.
    sha512: board.crypto ? function (d) {
      return new Uint8Array(C!.SHA512(d));
    } : sha512,
    aes256: board.crypto ? function (key) {
      var k = new Uint8Array(key);
      // Native ECB on whole blocks only; CTR would ignore the IV (jswrap_crypto.c CM_CTR).
      return function (blocks) {
        blocks.set(new Uint8Array(C!.AES.encrypt(blocks, k, { mode: "ECB" })));
      };
    } : function (key) {
      var w = aes256Expand(key);
      return function (blocks) {
        aes256EncryptBlocks(w, blocks);
      };
    },
    convolve: E.convolve,
    mapInPlace: E.mapInPlace,
    // ESP32 RSA block and DPORT base (src/crypto/esp32-rsa-regs.ts, docs/esp32-rsa-block.md); peek32/poke32
    // take addresses above 0x10000000 as they are (targets/esp32/jshardware.c jshFlashGetMemMapAddress), and
    // getTime() bounds the waits (seconds, from gettimeofday: targets/esp32/jshardware.c jshGetSystemTime).
    mpi: board.mpi === "esp32-rsa" ? { peek: peek32, poke: poke32, now: getTime, rsa: Base.RSA, dport: Base.DPORT } : undefined,
    // setTimeout(fn) itself: no interval is the minimum interval, as 0 is (src/jswrap_interactive.c
    // _jswrap_interface_setTimeoutOrInterval), and no wrapper closure stays resident.
    defer: setTimeout,
  };
}

/** The Storage module is the port as it is: its methods are built-in (no JsVars per method, unlike wrappers). */
export function espruinoKv(): KvPort {
  return require("Storage");
}

/** getTime() counts seconds since power-on on an ESP32 without SNTP, like ESP-IDF's log timestamps. */
export function espruinoClock(): ClockPort {
  return {
    now: function () {
      return Math.round(getTime() * 1000);
    },
    // The built-ins themselves: a wrapper closure would hold about 7 JsVars for good.
    after: setTimeout,
    cancel: clearTimeout,
  };
}

/** "aa:bb:cc:dd:ee:ff" → bytes. */
export function macBytes(s: string): Uint8Array {
  var hex = "";
  for (var i = 0; i < s.length; i++) if ("0123456789abcdefABCDEF".indexOf(s.charAt(i)) >= 0) hex += s.charAt(i);
  var out = new Uint8Array(hex.length >> 1);
  for (i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** wifi_auth_mode_t number of an Espruino auth mode name (0 when unknown). A function over a text, not an object:
 * the object would hold about 17 JsVars for good, the text stays in flash until a look-up. */
function authCode(mode: string | undefined): number {
  var i = "open wep wpa wpa2 wpa_wpa2 wpa2_enterprise wpa3 wpa2_wpa3".split(" ").indexOf(mode || "");
  return i < 0 ? 0 : i;
}

export function espruinoWifi(): WifiPort {
  var W = require("Wifi"), ev: WifiEvents | undefined, bssid: Uint8Array | undefined, channel = 0;
  // Events are queued to the JS loop (jswrap_esp32_network.c); channel arrives as a STRING, reason too.
  W.on("associated", function (d) {
    bssid = d.mac ? macBytes(d.mac) : undefined;
    channel = parseInt(d.channel, 10) || 0;
  });
  W.on("connected", function (d) {
    var st = W.getStatus();
    if (ev) ev.connected({ ip: d.ip, bssid: bssid, channel: channel || st.channel || 0, auth: authCode(st.authMode) });
  });
  W.on("disconnected", function (d) {
    if (ev) ev.disconnected(parseInt(d.reason, 10) || 0);
  });
  return {
    // Wifi.connect copies the SSID with jsvGetString(…, 32) and the password into a 64-byte buffer.
    maxSsid: 31,
    maxPass: 63,
    connect: function (ssid, pass, e) {
      ev = e;
      bssid = undefined;
      channel = 0;
      W.connect(ssid, { password: pass });
    },
    disconnect: function () {
      ev = undefined;
      W.disconnect();
    },
    scan: function (cb) {
      // ESP32 calls back with ONE argument (the docs' (err, list) is ESP8266's).
      W.scan(function (aps) {
        var out: ScanEntry[] = [];
        for (var i = 0; i < (aps || []).length; i++) {
          var a = aps[i]!;
          out.push({ ssid: a.ssid, bssid: macBytes(a.mac), channel: parseInt("" + a.channel, 10) || 0, rssi: a.rssi, auth: authCode(a.authMode) });
        }
        cb(out);
      });
    },
  };
}

/** The MAC used for the device name: base MAC from getSerial() ("240ac400-2f90") or the STA MAC. */
export function deviceMac(board: BoardInfo): Uint8Array {
  if (board.macSource === "wifi") return macBytes(require("Wifi").getIP().mac);
  return macBytes(getSerial());
}

export function bleEnabled(): boolean {
  return typeof NRF !== "undefined" && ESP32.getState().BLE;
}

/** The user's program files and their keeper (src/core/keep.ts), with the native CRC (jswrap_espruino.c E.CRC32). */
function keeper() {
  return { kv: require("Storage"), crc: E.CRC32 };
}

/**
 * ESP32.enableBLE(on): writes the NVS flag, ERASES .bootcde/.bootrst/.varimg (jswrap_esp32.c →
 * jsflash.c jsfRemoveCodeFromFlash) and reboots; the user's program is copied first and put back by the
 * next boot's restoreUserProgram(). False, and nothing switched, when Storage refused the copy.
 */
export function switchBleAndReboot(on: boolean): boolean {
  if (!keep(keeper())) return false;
  ESP32.enableBLE(on);
  return true;
}

/** At boot, before Espruino reads .bootcde: puts back a program kept by switchBleAndReboot. */
export function restoreUserProgram(): string[] {
  return restore(keeper());
}

/** The station's signal strength in dBm (Wifi.getStatus().rssi, set while connected: jswrap_esp32_network.c). */
export function stationRssi(): number | undefined {
  return require("Wifi").getStatus().rssi;
}

/**
 * Calls done(true) once `pin` has been held low for holdMs, done(false) when it is released sooner. setWatch
 * (src/jswrap_io.c) queues debounced edges to the JS loop with {state}: `debounce` ms of a stable level
 * before an edge counts, `edge:"both"`, `repeat:true` keeps the watch. The pin is an input with pull-up
 * (GPIO0, the DevKits' BOOT button, has an external one too).
 */
export function watchHold(pin: number, holdMs: number, done: (held: boolean) => void): void {
  var timer = 0;
  pinMode(pin, "input_pullup");
  setWatch(function (e) {
    if (!e.state) {
      if (!timer) timer = setTimeout(function () {
        timer = 0;
        done(true);
      }, holdMs);
    } else if (timer) {
      clearTimeout(timer);
      timer = 0;
      done(false);
    }
  }, pin, { repeat: true, edge: "both", debounce: 50 });
}

// The built-ins as values (a native function needs no code or scope in RAM; a wrapper function would hold
// about 7 JsVars for good). Neither reads `this` (console.log is src/jswrap_functions.c jswrap_print;
// ESP32.reboot is targets/esp32/jswrap_esp32.c jswrap_ESP32_reboot).
export var print: (line: string) => void = console.log;
export var rebootNow: () => void = ESP32.reboot;
