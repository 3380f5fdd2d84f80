/**
 * The prov-scan endpoint (ESP-IDF wifi_provisioning/src/wifi_scan.c and manager.c wifi_prov_mgr_wifi_scan_*):
 * ScanStart starts a scan (blocking: the reply waits until it is done), ScanStatus reports whether it
 * finished and how many networks it kept, ScanResult pages through them. Status sits at the top level of
 * the payload; an index outside the results answers InternalError, as wifi_scan.c does when the manager's
 * scan_result() fails.
 *
 * Espruino's Wifi.scan takes no options (libs/network/esp32/jswrap_esp32_network.c jswrap_wifi_scan: an
 * active scan of every channel, show_hidden), so `passive`, `group_channels` and `period_ms` are accepted
 * and logged, not applied. The list is sorted strongest first and cut to `maxEntries` (ESP-IDF's
 * CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES, 16). A page holds the requested entries that fit `pageBytes(sid)`:
 * over BLE one ATT read (Espruino ignores read offsets, so a longer value would arrive cut).
 */
import { strToBytes } from "../core/bytes";
import { Logger } from "../core/log";
import { decode, encode } from "../proto/codec";
import { D_WiFiScanPayload, Status, WiFiScanMsgType, WiFiScanPayload, WiFiScanResult } from "../proto/schema.gen";
import { Handler } from "../protocomm/protocomm";
import { protocolError } from "../protocomm/security";
import { ScanEntry, WifiPort } from "../ports/ports";

export interface ScanOptions {
  wifi: WifiPort;
  log: Logger;
  maxEntries: number;
  /** Largest reply (bytes) the session's transport can deliver in one piece. */
  pageBytes(sid: number): number;
}

/** Strongest first, at most max entries (stable for equal RSSI: scan order). */
export function rankNetworks(aps: ScanEntry[], max: number): ScanEntry[] {
  var idx = aps.map(function (_a, i) {
    return i;
  });
  idx.sort(function (a, b) {
    return aps[b]!.rssi - aps[a]!.rssi || a - b;
  });
  return idx.slice(0, max).map(function (i) {
    return aps[i]!;
  });
}

function entry(a: ScanEntry): WiFiScanResult {
  var ssid = strToBytes(a.ssid);
  return { ssid: ssid.length > 32 ? ssid.subarray(0, 32) : ssid, channel: a.channel, rssi: a.rssi, bssid: a.bssid, auth: a.auth };
}

export var SCAN_MAX_ENTRIES = 16;

export function wifiScanHandler(o: ScanOptions): Handler {
  var results: ScanEntry[] = [], scanning = false, finished = false, waiters: (() => void)[] = [];

  function start() {
    if (scanning) return;
    scanning = true;
    finished = false;
    o.wifi.scan(function (aps) {
      scanning = false;
      finished = true;
      results = rankNetworks(aps, o.maxEntries);
      o.log.i("Wi-Fi scan finished: " + aps.length + " networks, " + results.length + " kept");
      var w = waiters;
      waiters = [];
      for (var i = 0; i < w.length; i++) w[i]!();
    });
  }

  return function (req, sid, reply) {
    var m: WiFiScanPayload = decode(D_WiFiScanPayload, req), msg = m.msg || 0;
    var out: WiFiScanPayload = { msg: (msg + 1) as WiFiScanMsgType, status: Status.Success };
    if (msg === WiFiScanMsgType.TypeCmdScanStart) {
      var s = m.cmd_scan_start || {};
      if (s.passive || s.group_channels || s.period_ms) {
        o.log.d("Scan options not applied: Wifi.scan scans every channel actively");
      }
      out.resp_scan_start = {};
      start();
      if (!s.blocking) return encode(D_WiFiScanPayload, out);
      waiters.push(function () {
        reply(null, encode(D_WiFiScanPayload, out));
      });
      return undefined;
    }
    if (msg === WiFiScanMsgType.TypeCmdScanStatus) {
      out.resp_scan_status = { scan_finished: finished, result_count: finished ? results.length : 0 };
      return encode(D_WiFiScanPayload, out);
    }
    if (msg === WiFiScanMsgType.TypeCmdScanResult) {
      var r = m.cmd_scan_result || {}, from = r.start_index || 0, count = r.count || 0;
      if (!finished || from + count > results.length) {
        o.log.e("Scan results " + from + "+" + count + " requested, " + (finished ? results.length : 0) + " available");
        out.status = Status.InternalError;
        out.resp_scan_result = {};
        return encode(D_WiFiScanPayload, out);
      }
      // All requested entries, then fewer from the end while the reply is too long (one encode when it fits).
      var entries: WiFiScanResult[] = [], limit = o.pageBytes(sid), bytes: Uint8Array;
      for (var i = from; i < from + count; i++) entries.push(entry(results[i]!));
      out.resp_scan_result = { entries: entries };
      while ((bytes = encode(D_WiFiScanPayload, out)).length > limit && entries.length) entries.pop();
      if (count && !entries.length) throw protocolError("prov-scan", "one scan entry does not fit a " + limit + "-byte reply");
      if (entries.length < count) o.log.w("Scan page cut to " + entries.length + " of " + count + " entries to fit " + limit + " bytes");
      return bytes;
    }
    throw protocolError("prov-scan", "Unsupported WiFiScan msg type " + msg);
  };
}
