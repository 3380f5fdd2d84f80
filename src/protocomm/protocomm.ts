/**
 * Endpoint registry and dispatcher (ESP-IDF protocomm/src/common/protocomm.c protocomm_req_handle):
 * - "ver" endpoints (proto-ver) answer plaintext and do not touch the session stream;
 * - "sec" endpoints (prov-session) go to the security scheme's handshake;
 * - "req" endpoints are decrypted, handled, and the reply encrypted.
 * Any failure is reported to the transport as an error, never as a payload: the transport drops the link
 * (BLE) or answers with an error status (HTTP).
 * A "req" handler may answer later (a blocking Wi-Fi scan): it returns undefined and calls `reply`. The
 * session's cipher stream is shared by both directions in order (security1.c), so while one request of a
 * session waits for its reply, another request of the same session is refused rather than interleaved.
 */
import { Logger } from "../core/log";
import { Done, protocolError, Security } from "./security";

export const enum Kind { VER = 0, SEC = 1, REQ = 2 }

/** A plaintext request handler; throws to fail the exchange, or returns undefined and calls reply later. */
export type Handler = (req: Uint8Array, sid: number, reply: Done) => Uint8Array | undefined;

export interface Protocomm {
  add(name: string, kind: Kind, handler?: Handler): void;
  names(): string[];
  /** The endpoint's kind, or -1 when there is no such endpoint. */
  kind(name: string): Kind | -1;
  open(sid: number): void;
  close(sid: number): void;
  /** Handles one request; `done` is called exactly once, possibly later. */
  handle(name: string, sid: number, req: Uint8Array, done: Done): void;
}

export function createProtocomm(sec: Security, log: Logger): Protocomm {
  var eps: { name: string; kind: Kind; handler?: Handler }[] = [];
  // Session whose request is waiting for its reply (one at a time per session: see above).
  var waiting: { [sid: number]: boolean } = {};
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
    kind: function (name) {
      var ep = find(name);
      return ep ? ep.kind : -1;
    },
    // The security's own method (none of them reads `this`): no wrapper closure resident.
    open: sec.open,
    close: function (sid) {
      delete waiting[sid];
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
      function encrypted(err: Error | null, plain?: Uint8Array) {
        delete waiting[sid];
        if (err) return once(err);
        try {
          once(null, sec.encrypt(sid, plain!));
        } catch (e) {
          once(e instanceof Error ? e : protocolError("handler", "" + e));
        }
      }
      try {
        if (!ep) return once(protocolError("endpoint", "no endpoint " + name));
        if (!req.length) return once(protocolError("empty", "empty request"));
        if (ep.kind === Kind.VER) return once(null, ep.handler!(req, sid, once));
        if (waiting[sid]) return once(protocolError("busy", "previous request of this session still pending"));
        if (ep.kind === Kind.SEC) return sec.handshake(sid, req, once);
        var plain = sec.decrypt(sid, req);
        waiting[sid] = true;
        var resp = ep.handler!(plain, sid, encrypted);
        if (resp) encrypted(null, resp);
      } catch (e) {
        // Malformed protobuf, bad state, handler failure: never escapes the endpoint.
        delete waiting[sid];
        once(e instanceof Error ? e : protocolError("handler", "" + e));
      }
    },
  };
}
