/**
 * The prov-config endpoint codec (ESP-IDF wifi_provisioning/src/wifi_config.c): decodes
 * WiFiConfigPayload, validates, calls the plain handlers, encodes the reply (msg = request msg + 1).
 */
import { decode, encode } from "../proto/codec";
import { D_WiFiConfigPayload, RespGetStatus, Status, WiFiConfigMsgType, WiFiConfigPayload } from "../proto/schema.gen";
import { protocolError } from "../protocomm/security";

export interface WifiConfig {
  ssid: Uint8Array;
  passphrase: Uint8Array;
  bssid: Uint8Array;
  channel: number;
}

/** Mirrors wifi_prov_config_handlers_t. */
export interface WifiConfigHandlers {
  getStatus(): RespGetStatus;
  setConfig(c: WifiConfig): Status;
  applyConfig(): Status;
}

/** ESP-IDF's checks: ssid ≤ 32 bytes, passphrase < 64, bssid 0 or 6 bytes. */
export function validConfig(c: WifiConfig): boolean {
  return c.ssid.length <= 32 && c.passphrase.length < 64 && (c.bssid.length === 0 || c.bssid.length === 6);
}

var EMPTY = new Uint8Array(0);

export function wifiConfigHandler(h: WifiConfigHandlers): (req: Uint8Array) => Uint8Array {
  return function (req) {
    var m: WiFiConfigPayload = decode(D_WiFiConfigPayload, req), msg = m.msg || 0, out: WiFiConfigPayload;
    if (msg === WiFiConfigMsgType.TypeCmdGetStatus) {
      out = { msg: WiFiConfigMsgType.TypeRespGetStatus, resp_get_status: h.getStatus() };
    } else if (msg === WiFiConfigMsgType.TypeCmdSetConfig) {
      var s = m.cmd_set_config || {};
      var c: WifiConfig = { ssid: s.ssid || EMPTY, passphrase: s.passphrase || EMPTY, bssid: s.bssid || EMPTY, channel: s.channel || 0 };
      out = { msg: WiFiConfigMsgType.TypeRespSetConfig, resp_set_config: { status: validConfig(c) ? h.setConfig(c) : Status.InvalidArgument } };
    } else if (msg === WiFiConfigMsgType.TypeCmdApplyConfig) {
      out = { msg: WiFiConfigMsgType.TypeRespApplyConfig, resp_apply_config: { status: h.applyConfig() } };
    } else {
      throw protocolError("prov-config", "Unsupported WiFiConfig msg type " + msg);
    }
    return encode(D_WiFiConfigPayload, out);
  };
}
