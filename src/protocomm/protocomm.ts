/**
 * Endpoint registry and dispatcher (ESP-IDF protocomm/src/common/protocomm.c protocomm_req_handle):
 * - "ver" endpoints (proto-ver) answer plaintext and do not touch the session stream;
 * - "sec" endpoints (prov-session) go to the security scheme's handshake;
 * - "req" endpoints are decrypted, handled, and the reply encrypted.
 * Any failure is reported to the transport as an error, never as a payload: the transport drops the link.
 */
import { Logger } from "../core/log";
import { Done, protocolError, Security } from "./security";

export const enum Kind { VER = 0, SEC = 1, REQ = 2 }

/** A plaintext request handler; throws to fail the exchange. */
export type Handler = (req: Uint8Array, sid: number) => Uint8Array;

export interface Protocomm {
  add(name: string, kind: Kind, handler?: Handler): void;
  names(): string[];
  open(sid: number): void;
  close(sid: number): void;
  /** Handles one request; `done` is called exactly once, possibly later. */
  handle(name: string, sid: number, req: Uint8Array, done: Done): void;
}

export function createProtocomm(sec: Security, log: Logger): Protocomm {
  var eps: { name: string; kind: Kind; handler?: Handler }[] = [];
  function find(name: string) {
    for (var i = 0; i < eps.length; i++) if (eps[i]!.name === name) return eps[i];
    return undefined;
  }
  return {
    add: function (name, kind, handler) {
      eps.push({ name: name, kind: kind, handler: handler });
    },
    names: function () {
      return eps.map(function (e) {
        return e.name;
      });
    },
    open: function (sid) {
      sec.open(sid);
    },
    close: function (sid) {
      sec.close(sid);
    },
    handle: function (name, sid, req, done) {
      var ep = find(name), called = false;
      function once(err: Error | null, resp?: Uint8Array) {
        if (called) return;
        called = true;
        if (err) log.e("Request to " + name + " failed: " + err.message);
        done(err, resp);
      }
      try {
        if (!ep) return once(protocolError("endpoint", "no endpoint " + name));
        if (!req.length) return once(protocolError("empty", "empty request"));
        if (ep.kind === Kind.SEC) return sec.handshake(sid, req, once);
        if (ep.kind === Kind.VER) return once(null, ep.handler!(req, sid));
        var plain = sec.decrypt(sid, req);
        once(null, sec.encrypt(sid, ep.handler!(plain, sid)));
      } catch (e) {
        // Malformed protobuf, bad state, handler failure: never escapes the endpoint.
        once(e instanceof Error ? e : protocolError("handler", "" + e));
      }
    },
  };
}
