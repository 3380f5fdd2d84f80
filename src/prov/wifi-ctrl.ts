/**
 * The prov-ctrl endpoint (ESP-IDF wifi_provisioning/src/wifi_ctrl.c): Reset takes the device back to
 * accepting credentials after a failed attempt; Reprov forgets the network the device joined and starts
 * over. Reply msg = request msg + 1 with a top-level status; an unknown msg fails the exchange.
 */
import { decode, encode } from "../proto/codec";
import { D_WiFiCtrlPayload, Status, WiFiCtrlMsgType, WiFiCtrlPayload } from "../proto/schema.gen";
import { Handler } from "../protocomm/protocomm";
import { protocolError } from "../protocomm/security";

/** Mirrors wifi_ctrl_handlers_t. */
export interface WifiCtrlHandlers {
  reset(): Status;
  reprov(): Status;
}

export function wifiCtrlHandler(h: WifiCtrlHandlers): Handler {
  return function (req) {
    var m: WiFiCtrlPayload = decode(D_WiFiCtrlPayload, req), msg = m.msg || 0, out: WiFiCtrlPayload;
    if (msg === WiFiCtrlMsgType.TypeCmdCtrlReset) {
      out = { msg: WiFiCtrlMsgType.TypeRespCtrlReset, status: h.reset(), resp_ctrl_reset: {} };
    } else if (msg === WiFiCtrlMsgType.TypeCmdCtrlReprov) {
      out = { msg: WiFiCtrlMsgType.TypeRespCtrlReprov, status: h.reprov(), resp_ctrl_reprov: {} };
    } else {
      throw protocolError("prov-ctrl", "Unsupported WiFiCtrl msg type " + msg);
    }
    return encode(D_WiFiCtrlPayload, out);
  };
}
