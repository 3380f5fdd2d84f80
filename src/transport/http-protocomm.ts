/**
 * protocomm over HTTP, as ESP-IDF protocomm/src/transports/protocomm_httpd.c serves it on the SoftAP:
 * `POST /<endpoint>` with the raw message as body, 200 with the raw reply. Content-Length is required and
 * the body must be 1..4096 bytes.
 *
 * Sessions are cookies. Espruino's server sends `Connection: close` and serves one request per connection
 * (libs/network/socketserver.c adds the header to every response), so ESP-IDF's fallback of "same socket =
 * same session" never applies. A request whose `Cookie: session=<id>` names the current session continues
 * it; any other request to a session endpoint starts a new session that replaces the old one (ESP-IDF's
 * rule, which copes with Android's static cookie store sending stale cookies), and its reply carries
 * `Set-Cookie: session=<id>`. Two refinements:
 * - proto-ver needs no session, so a request to it from outside the current session is answered without
 *   ending that session (a second phone probing the device does not break a client mid-handshake);
 * - a client that never sends cookies (esp_prov v3.2-v4.0 transport_softap.py uses none) relied on ESP-IDF's
 *   same-socket rule; here a request with no Cookie header continues the current session as long as no
 *   request of that session has carried its cookie (so it is a cookie-less client's session).
 *
 * Failures: ESP-IDF closes the socket without a reply when a handler fails. Espruino's server cannot close
 * a request without sending a status line (socketserver.c serverResponseEnd writes a default 200 head), so
 * the firmware answers 500 with an empty body; every client treats a non-200 as a failed exchange. A session
 * refused by the PoP lock-out (security1 "throttled") is answered 503 with the reason and the time left as
 * text: esp_prov and the phone apps fail on it as on 500 (they read no body of a non-200), npm run prov tells it.
 */
import { strToBytes } from "../core/bytes";
import { Logger } from "../core/log";
import { Kind, Protocomm } from "../protocomm/protocomm";
import { ProtocolError } from "../protocomm/security";
import { ClockPort } from "../ports/ports";

export var MAX_BODY = 4096;
/** Time a client gets to deliver its body (esp_http_server's recv_wait_timeout is 5 s). */
export var BODY_TIMEOUT_MS = 5000;
/** The last part of BODY_TIMEOUT_MS, counted from the first expiry (see serve). */
var BODY_GRACE_MS = 100;

export interface HttpRequest {
  method: string;
  url: string;
  /** Header value by case-insensitive name (Espruino keeps the client's spelling). */
  header(name: string): string | undefined;
  /** Body bytes as they arrive (binary strings, ≤ 536 bytes each on the ESP32), then end or close. */
  on(ev: "data", fn: (chunk: string) => void): void;
  on(ev: "end" | "close", fn: () => void): void;
}

export interface HttpResponse {
  /** Sends the whole response and ends it. */
  send(status: number, headers: { [name: string]: string }, body: Uint8Array): void;
  /**
   * Sends the head, then the body piece by piece: next() gives the next piece (a binary string), "" once
   * the body is complete; it is called again only after the previous piece has been sent.
   */
  stream(status: number, headers: { [name: string]: string }, next: () => string): void;
}

export interface HttpPort {
  listen(port: number, onRequest: (req: HttpRequest, res: HttpResponse) => void): void;
  close(): void;
}

/** The clock's timers (body deadline) as ClockPort has them. */
export interface HttpOptions extends Pick<ClockPort, "after" | "cancel"> {
  log: Logger;
  /** A fresh random session id (32 bits). */
  newSessionId(): number;
  /** Serves GET requests (the web portal); without it they get 405 as any method but POST. */
  get?: (req: HttpRequest, res: HttpResponse) => void;
}

export interface HttpTransport {
  /** Current session id (0 = none). */
  sessionId(): number;
  stop(): void;
}

var EMPTY = new Uint8Array(0);

/** The session id from a Cookie header (`session=<u32>`, possibly among other cookies), or -1. */
export function cookieSession(cookie: string | undefined): number {
  // No regex: Espruino's RegExp has no {n} quantifiers nor (?:) groups (tools/subset-check.mjs).
  var parts = cookie ? cookie.split(";") : [];
  for (var i = 0; i < parts.length; i++) {
    var p = parts[i]!.trim();
    if (p.substr(0, 8) === "session=" && /^\d+$/.test(p.substr(8)) && p.length <= 18) return parseInt(p.substr(8), 10);
  }
  return -1;
}

export function httpTransport(pc: Protocomm, port: HttpPort, o: HttpOptions): HttpTransport {
  var log = o.log, current = 0, cookieSeen = false;

  function fail(res: HttpResponse, status: number, why: string) {
    log.e(why);
    res.send(status, status === 405 ? { Allow: o.get ? "GET, POST" : "POST" } : {}, EMPTY);
  }

  function serve(req: HttpRequest, res: HttpResponse) {
    // A GET has no body to collect: none of the POST machinery below is made for it.
    if (req.method === "GET" && o.get) return o.get(req, res);
    var name = req.url.charAt(0) === "/" ? req.url.substr(1) : req.url, kind = pc.kind(name);
    var lenText = req.header("Content-Length"), len = lenText && lenText.length < 10 && /^\d+$/.test(lenText) ? parseInt(lenText, 10) : -1;
    var body = "", open = true, timer = 0;
    // Unread body bytes would pile up in the socket's buffer: always take them.
    req.on("data", function (chunk) {
      if (body.length < len) body += chunk;
    });
    req.on("close", function () {
      open = false;
      if (timer) o.cancel(timer);
    });
    if (req.method !== "POST") return fail(res, 405, req.method + " " + req.url + ": only POST is served");
    if (kind === -1) return fail(res, 404, "No endpoint " + req.url);
    if (len < 0) return fail(res, 411, "Content length not found");
    if (len === 0) return fail(res, 400, "Empty request body");
    if (len > MAX_BODY) return fail(res, 413, "Request content length should be less than 4kb (" + len + " bytes)");
    // The deadline can pass while a body the client sent whole waits in the socket: the interpreter was busy past it,
    // and Espruino runs due timers before the socket server's idle reads (src/jsinteractive.c jsiIdle). So the
    // first expiry only waits a moment more, which lets that body in; the second answers 408.
    var late = false;
    function expire() {
      timer = 0;
      if (!open) return;
      if (!late) {
        late = true;
        timer = o.after(expire, BODY_GRACE_MS);
        return;
      }
      open = false;
      fail(res, 408, "Body of " + req.url + " not received in " + BODY_TIMEOUT_MS / 1000 + " s");
    }
    timer = o.after(expire, BODY_TIMEOUT_MS - BODY_GRACE_MS);
    req.on("end", function () {
      if (!open) return;
      if (timer) o.cancel(timer);
      timer = 0;
      if (body.length < len) {
        open = false;
        return fail(res, 400, "Body of " + req.url + " ended after " + body.length + " of " + len + " bytes");
      }
      handle(req, res, name, kind as Kind, body.length > len ? body.substr(0, len) : body, function () {
        return open;
      });
    });
  }

  function handle(req: HttpRequest, res: HttpResponse, name: string, kind: Kind, body: string, stillOpen: () => boolean) {
    var sid = cookieSession(req.header("Cookie")), fresh = false;
    if (current && sid === current) {
      cookieSeen = true;
    } else if (current && sid === -1 && !cookieSeen && kind !== Kind.VER) {
      sid = current; // a cookie-less client continuing its session
    } else {
      if (kind === Kind.VER) {
        sid = 0;
      } else {
        if (current) {
          log.w("Closing session with ID: " + current);
          pc.close(current);
        }
        current = sid = o.newSessionId();
        cookieSeen = false;
        pc.open(sid);
        fresh = true;
      }
    }
    pc.handle(name, sid, strToBytes(body), function (err, resp) {
      if (!stillOpen()) return log.w("Client of " + name + " left before its reply");
      if (err && (err as ProtocolError).code === "throttled") return res.send(503, { "Content-Type": "text/plain" }, strToBytes(err.message));
      if (err) return fail(res, 500, "Data handler failed");
      var h: { [k: string]: string } = { "Content-Type": "application/octet-stream" };
      if (fresh) h["Set-Cookie"] = "session=" + sid;
      res.send(200, h, resp!);
    });
  }

  port.listen(80, serve);
  return {
    sessionId: function () {
      return current;
    },
    stop: function () {
      if (current) pc.close(current);
      current = 0;
      port.close();
    },
  };
}
