/**
 * require("http") of Espruino's ESP32 port, server side, and the TCP clients that reach it over the SoftAP.
 * Modelled on libs/network/socketserver.c and libs/network/http/jswrap_http.c (2v29):
 * - a connection's bytes are read in chunks of at most 536 bytes (libs/network/esp32/network_esp32.c
 *   chunkSize); the server callback (req, res) is queued once "\r\n\r\n" ends the headers
 *   (httpParseHeaders); header names keep the client's spelling; Content-Length is looked up without
 *   regard to case (jsvObjectGetChildI); `method` and `url` are the request line's first two words;
 * - body bytes become one 'data' event (a binary string) per chunk once a 'data' listener exists;
 *   'end' is queued once Content-Length bytes arrived; a request without Content-Length ends at once;
 *   a `Transfer-Encoding: chunked` body (socketPushReceiveData) comes decoded, chunk by chunk, and ends at its
 *   zero-size chunk, whatever Content-Length says;
 * - the response: writeHead builds "HTTP/1.1 <code> OK" + "Server: Espruino 2v29" + the headers, and every
 *   response carries "Connection: close" (added when the connection is accepted); there is no automatic
 *   Content-Length; write()/end() append jsvAsString(data), so a Uint8Array goes out as the text "1,2,3";
 *   write/end without writeHead send a 200 head first; after end() the socket closes once everything is
 *   sent AND the request body is complete (a client that never sends its body keeps the socket open);
 * - a client that closes its side (FIN) or goes makes recv() fail on every pass (network_esp32.c net_esp32_recv:
 *   0 bytes → -1), which socketServerConnectionsIdle does NOT take as a reason to close: with nothing left to send
 *   it closes only once end() was called, the headers were parsed and Content-Length bytes arrived, as for a
 *   client that stays. Until then no 'close' fires and the firmware's reply still goes out (to a half-closed
 *   client); a client that leaves before its headers end or mid-body keeps its socket for good (CLOSE-WAIT;
 *   seen in the Linux build, which runs the same socketserver.c: npm run differential, docs/http.md);
 * - when the server closes, 'end' fires on the response and 'close' on both; writing afterwards throws
 *   "This socket is closed";
 * - once everything written has been sent, 'drain' is queued on the response unless end() was called
 *   (socketSendData); until then the bytes written wait in the response's send buffer (JsVars on the board:
 *   serverResponseWrite appends each write to it), whose total over all connections is tracked (sendPeak);
 * - at most 10 sockets (CONFIG_LWIP_MAX_SOCKETS in the ESP32 build), the listening one included.
 */
import { Scheduler } from "./scheduler";

export const CHUNK = 536;
export const MAX_SOCKETS = 10;
/** One-way latency of a frame on the SoftAP link. */
export const LINK_MS = 3;

type Fn = (...a: any[]) => void;

class Emitter {
  handlers: Record<string, Fn[]> = {};
  on(ev: string, fn: Fn) { (this.handlers[ev] ||= []).push(fn); }
  has(ev: string) { return !!this.handlers[ev]?.length; }
}

/** The client end of a TCP connection to the board (a phone on the AP, or the sim's TCP bridge). */
export class HttpClientSocket {
  received = Buffer.alloc(0);
  closedByDevice = false;
  closedByClient = false;
  onData?: (b: Buffer) => void;
  onClose?: () => void;
  constructor(private conn: Conn) {}
  write(b: Uint8Array | string) {
    if (this.closedByClient || this.closedByDevice) throw new Error("socket closed");
    this.conn.fromClient(Buffer.from(typeof b === "string" ? Buffer.from(b, "latin1") : b));
  }
  /**
   * The client closes its side (FIN); it keeps reading what the device still sends. The board's
   * socketServerConnectionsIdle (socketserver.c) then sees recv() < 0 on every pass but, with nothing left to send,
   * still closes only once end() was called, the headers parsed and the body complete (Conn.maybeClose), as for a
   * client that stays: nothing changes on the board's side.
   */
  end() {
    this.closedByClient = true;
  }
  get closed() { return this.closedByClient || this.closedByDevice; }
}

class Conn {
  rx = Buffer.alloc(0);
  hadHeaders = false;
  toReceive = 0;
  ended = false;
  closeAfterSend = false;
  closed = false;
  sent = "";
  headers: Record<string, string> = { Connection: "close" };
  req = new Emitter() as Emitter & { method?: string; url?: string; headers?: Record<string, string> };
  res = new Emitter();
  client = new HttpClientSocket(this);
  constructor(private http: SimHttp, private server: SimServer) {}

  fromClient(b: Buffer) {
    const s = this.http.sched;
    s.at(s.now + LINK_MS, false, () => {
      if (this.closed) return;
      this.rx = Buffer.concat([this.rx, b]);
      this.poll();
    });
  }

  /** One pass of socketserver.c's idle loop for this connection. */
  poll() {
    if (this.closed) return;
    const s = this.http.sched;
    if (!this.hadHeaders) {
      const end = this.rx.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.parseHeaders(this.rx.subarray(0, end + 2).toString("latin1"));
      this.rx = this.rx.subarray(end + 4);
      this.hadHeaders = true;
      const req = this.http.realmReq(this), res = this.http.realmRes(this);
      s.at(s.now, true, () => this.server.cb(req, res));
      return; // the body waits for a 'data' listener (req.on polls again)
    }
    while (this.rx.length && this.req.has("data")) {
      let str: string | undefined;
      if (this.chunked) {
        str = this.dechunk();
        if (str === undefined) break; // the rest of a chunk's head or its CRLF
      } else {
        const chunk = this.rx.subarray(0, CHUNK);
        this.rx = this.rx.subarray(chunk.length);
        this.toReceive -= chunk.length;
        str = chunk.toString("latin1");
      }
      if (str) for (const fn of this.req.handlers.data!) s.at(s.now, true, () => fn(str));
    }
    if (!this.rx.length && this.toReceive <= 0 && !this.ended) {
      this.ended = true;
      for (const fn of this.req.handlers.end || []) s.at(s.now, true, () => fn());
    }
    this.maybeClose();
  }

  /** Transfer-Encoding: chunked (socketserver.c httpParseHeaders): the body is complete at its zero-size chunk. */
  chunked = false;

  /**
   * socketPushReceiveData's chunked branch: the data of the chunk at the start of rx (a part of it if the rest has
   * not arrived: rx then holds a chunk head for what is missing), "" after the last chunk (rx emptied, body
   * complete), undefined to wait for more bytes. toReceive is 1 until the zero-size chunk, then 0.
   */
  private dechunk(): string | undefined {
    const text = this.rx.toString("latin1"), len = text.length;
    if (len < 5) return undefined; // at least "0\r\n\r\n"
    const start = text.indexOf("\r\n") + 2; // size_t arithmetic: no CRLF gives 1, as in C
    const size = parseInt(text, 16) || 0; // jswrap_parseInt(data, 16); NaN → 0
    this.toReceive = size ? 1 : 0;
    if (!size) { this.rx = Buffer.alloc(0); return ""; }
    const next = start + size + 2;
    let rest = "";
    if (next < len) rest = text.slice(next);
    else if (next > len) {
      if (next - len < 3) return undefined; // only the CRLF missing
      rest = (next - len - 2).toString(16) + "\r\n";
    }
    this.rx = Buffer.from(rest, "latin1");
    return text.substr(start, size);
  }

  parseHeaders(text: string) {
    const lines = text.split("\r\n");
    const [method = "", url = ""] = lines[0]!.split(" ");
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c <= 0) continue;
      const v = l.slice(c + 1).replace(/^[ \t]+/, "");
      // A repeated name is a second child of the same name (jsvAddName): look-ups find the first.
      if (v.length && !Object.prototype.hasOwnProperty.call(headers, l.slice(0, c))) headers[l.slice(0, c)] = v;
    }
    this.req.method = method;
    this.req.url = url;
    this.req.headers = headers;
    // Both looked up without regard to case (jsvObjectGetChildI); chunked wins over Content-Length.
    const named = (n: string) => { const k = Object.keys(headers).find((h) => h.toLowerCase() === n); return k === undefined ? undefined : headers[k]; };
    this.chunked = named("transfer-encoding")?.toLowerCase() === "chunked";
    const cl = named("content-length");
    this.toReceive = this.chunked ? 1 : cl !== undefined ? espruinoInt(cl) : 0;
  }

  /** Bytes the firmware wrote reach the client when the JS item that wrote them has finished. */
  send(text: string) {
    if (this.closed) throw new Error("This socket is closed");
    this.sent += text;
    this.out += text;
    this.http.noteSendBuffers();
    this.http.sched.effect(() => this.flush(true));
  }
  out = "";
  private flush(drain = false) {
    if (!this.out) return;
    const b = Buffer.from(this.out, "latin1");
    this.out = "";
    this.client.received = Buffer.concat([this.client.received, b]);
    this.client.onData?.(b);
    const s = this.http.sched;
    if (drain && !this.closeAfterSend) for (const fn of this.res.handlers.drain || []) s.at(s.now, true, () => fn());
  }

  maybeClose() {
    if (this.closed || !this.closeAfterSend || this.toReceive > 0 || !this.hadHeaders) return;
    this.http.sched.effect(() => this.drop());
  }

  /** socketserver.c's close: 'end' on the response, 'close' on both (hadError false: SOCKET_ERR_CLOSED), then the FIN. */
  drop() {
    if (this.closed) return;
    this.closed = true;
    this.http.conns.delete(this);
    const s = this.http.sched;
    for (const fn of this.res.handlers.end || []) s.at(s.now, true, () => fn());
    for (const fn of [...(this.req.handlers.close || []), ...(this.res.handlers.close || [])]) s.at(s.now, true, () => fn(false));
    this.flush(); // everything written goes out before the FIN
    this.client.closedByDevice = true;
    this.client.onClose?.();
  }
}

/**
 * jsvGetInteger of a string (src/jsvar.c), as httpParseHeaders reads Content-Length: 0 unless the string is
 * numeric by jsvIsStringNumericInt (whitespace, a sign, then digits of the radix its first two characters give,
 * 0x/0b/0o or a leading 0 for octal, at most one '.'), else stringToInt (src/jsutils.c stringToIntWithRadix, radix
 * from getRadix: a leading 0 is octal unless a '.', 8 or 9 follows in its run), which stops at the first non-digit.
 * So "0x10" is 16, "010" 8, "4.5" 4, "+4" 4, "4abc" and "1e1" 0 (Node's parseInt would say 0, 10, 4, 4, 4, 1).
 */
export function espruinoInt(text: string): number {
  const digit = (c: string | undefined) => (c === undefined ? -1 : /[0-9]/.test(c) ? c.charCodeAt(0) - 48 : /[a-z]/i.test(c) ? c.toLowerCase().charCodeAt(0) - 87 : -1);
  let s = text.replace(/^[ \t\n\v\f\r]+/, ""), neg = false;
  if (s[0] === "-" || s[0] === "+") { neg = s[0] === "-"; s = s.slice(1); }
  // jsvIsStringNumericInt: the radix from "0" and the one character after it.
  let radix = 10, rest = s;
  if (s[0] === "0") {
    const c = s[1];
    if (c === "x" || c === "X") { radix = 16; rest = s.slice(2); }
    else if (c === "b" || c === "B") { radix = 2; rest = s.slice(2); }
    else if (c === "o" || c === "O") { radix = 8; rest = s.slice(2); }
    else { radix = c === "." || c === "8" || c === "9" ? 10 : 8; rest = s.slice(1); }
  }
  let dot = true;
  for (const c of rest) {
    if (c === "." && dot) dot = false;
    else if (digit(c) < 0 || digit(c) >= radix) return 0;
  }
  if (!rest.length) return 0;
  // stringToInt: getRadix looks along the whole run of digits after a leading 0.
  let r = 10, i = 0;
  if (s[0] === "0") {
    r = 8; i = 1;
    const c = s[1];
    if (c === "x" || c === "X") { r = 16; i = 2; }
    else if (c === "b" || c === "B") { r = 2; i = 2; }
    else if (c === "o" || c === "O") { i = 2; }
    else for (let k = 1; k < s.length && /[0-9.]/.test(s[k]!); k++) if (/[.89]/.test(s[k]!)) r = 10;
  }
  let v = 0;
  for (; i < s.length && digit(s[i]) >= 0 && digit(s[i]) < r; i++) v = v * r + digit(s[i]);
  return neg ? -v : v;
}

interface SimServer { port: number; cb: (req: unknown, res: unknown) => void; open: boolean }

export class SimHttp {
  servers = new Map<number, SimServer>();
  conns = new Set<Conn>();
  /** Whether a client can reach the board (its AP is up). */
  reachable: () => boolean = () => true;
  /** Other sockets the firmware holds (UDP), which lwIP's limit counts too. */
  otherSockets: () => number = () => 0;
  /** The most bytes waiting in response send buffers at once, all connections together. */
  sendPeak = 0;
  constructor(public sched: Scheduler) {}

  noteSendBuffers() {
    let n = 0;
    for (const c of this.conns) n += c.out.length;
    this.sendPeak = Math.max(this.sendPeak, n);
  }

  /** require("http") as the firmware sees it. */
  api() {
    const self = this;
    return {
      createServer(cb: (req: unknown, res: unknown) => void) {
        const srv: SimServer = { port: 0, cb, open: false };
        return {
          listen(port: number) {
            if (self.servers.has(port)) throw new Error("Unable to listen on port " + port);
            srv.port = port; srv.open = true; self.servers.set(port, srv);
            return this;
          },
          close() { if (srv.open && self.servers.get(srv.port) === srv) self.servers.delete(srv.port); srv.open = false; },
        };
      },
    };
  }

  realmReq(c: Conn) {
    const self = this;
    return {
      method: c.req.method, url: c.req.url, headers: c.req.headers,
      on(ev: string, fn: Fn) { c.req.on(ev, fn); self.sched.afterCurrent(() => c.poll()); },
      read() { const s = c.rx.toString("latin1"); c.rx = Buffer.alloc(0); return s; },
      available() { return c.rx.length; },
    };
  }

  realmRes(c: Conn) {
    const asString = (d: unknown) => (d === undefined ? "" : String(d)); // jsvAsString: Uint8Array → "1,2,3"
    let headSent = false;
    const head = (code: number, extra?: Record<string, unknown>) => {
      if (headSent) throw new Error("Headers have already been sent");
      if (extra !== undefined && (typeof extra !== "object" || extra === null)) throw new Error("Headers sent to writeHead should be an object");
      headSent = true;
      const h = { ...c.headers, ...(extra || {}) };
      c.send(`HTTP/1.1 ${code} OK\r\nServer: Espruino 2v29\r\n` + Object.entries(h).map(([k, v]) => `${k}: ${String(v)}\r\n`).join("") + "\r\n");
    };
    return {
      writeHead(code: number, headers?: Record<string, unknown>) { if (c.closed) throw new Error("This socket is closed"); head(code, headers); },
      setHeader(k: string, v: unknown) { c.headers[String(k)] = String(v); },
      write(d: unknown) { if (c.closed) throw new Error("This socket is closed"); if (!headSent) head(200); c.send(asString(d)); return true; },
      end(d?: unknown) {
        if (c.closed) throw new Error("This socket is closed");
        if (!headSent) head(200);
        if (d !== undefined) c.send(asString(d));
        c.closeAfterSend = true;
        c.maybeClose();
      },
      on(ev: string, fn: Fn) { c.res.on(ev, fn); },
    };
  }

  /** A client opens a TCP connection to the board's port (it must have joined the AP). */
  connect(port = 80): HttpClientSocket {
    if (!this.reachable()) throw new Error("connect EHOSTUNREACH 192.168.4.1:" + port + " (the board's access point is down)");
    const srv = this.servers.get(port);
    if (!srv) throw new Error("connect ECONNREFUSED 192.168.4.1:" + port);
    if (this.conns.size + 1 + this.otherSockets() >= MAX_SOCKETS) throw new Error("connect ECONNREFUSED 192.168.4.1:" + port + " (lwIP has no free socket)");
    const c = new Conn(this, srv);
    this.conns.add(c);
    return c.client;
  }
}

export interface HttpReply { status: number; headers: Record<string, string>; body: Buffer }

/** Splits a raw HTTP response (what the client received). */
export function parseResponse(raw: Buffer): HttpReply | undefined {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = parseInt(lines[0]!.split(" ")[1]!, 10);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) { const c = l.indexOf(":"); headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim(); }
  return { status, headers, body: raw.subarray(end + 4) };
}
