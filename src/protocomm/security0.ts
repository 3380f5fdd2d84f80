/** Security 0: plaintext (ESP-IDF protocomm/src/security/security0.c). One round trip. */
import { decode, encode } from "../proto/codec";
import { D_SessionData, Sec0MsgType, SessionData } from "../proto/schema.gen";
import { Logger } from "../core/log";
import { protocolError, Security } from "./security";

export function security0(log: Logger): Security {
  var current = -1;
  /** Both directions: plaintext once the session is this one (one function: ≈ 7 JsVars fewer than two). */
  function pass(sid: number, data: Uint8Array) {
    if (sid !== current) throw protocolError("session", "Secure session not established");
    return data;
  }
  return {
    version: 0,
    open: function (sid) {
      current = sid;
    },
    close: function (sid) {
      if (sid === current) current = -1;
    },
    handshake: function (sid, req, done) {
      var m: SessionData = decode(D_SessionData, req);
      if ((m.sec_ver || 0) !== 0 || !m.sec0 || m.sec0.payload !== "sc" || (m.sec0.msg || 0) !== Sec0MsgType.S0_Session_Command) {
        log.e("Invalid security 0 session command");
        return done(protocolError("sec0", "invalid security 0 session command"));
      }
      current = sid;
      done(null, encode(D_SessionData, { sec_ver: 0, sec0: { msg: Sec0MsgType.S0_Session_Response, sr: { status: 0 } } }));
    },
    encrypt: pass,
    decrypt: pass,
  };
}
