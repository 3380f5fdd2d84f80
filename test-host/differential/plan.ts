/**
 * The differential check's request sequences and their comparison, independent of what serves them
 * (docs/differential.md). A case is a timeline of client actions on one or more TCP connections to the board's
 * port 80; its outcome is, per connection, what the client received and whether the board closed the
 * connection. The same cases run against Espruino's Linux build (its own `http` module on a real TCP port) and
 * against the simulator, and the outcomes are compared byte for byte: status line, headers, body, close.
 * Times are the client's: wall-clock ms in the interpreter, device ms in the simulator (the two clocks are not
 * comparable, so the cases leave wide margins and compare orders and outcomes, not times).
 */

/** One client action, `at` ms after the case started. */
export type Action =
  | { at: number; conn: number; op: "open" }
  | { at: number; conn: number; op: "send"; data: string }
  /** The client closes its side (FIN; it keeps reading). */
  | { at: number; conn: number; op: "end" };

export interface Case {
  name: string;
  actions: Action[];
  /** After the last action: wait until the board closed every connection, at most this long. */
  waitMs: number;
  /** Then, if set: the client closes every connection still open and waits this long more. */
  endAfterMs?: number;
}

/** What one connection saw. */
export interface ConnOutcome {
  /** The connection was refused (the client's error text, normalised to its code). */
  refused?: string;
  /** Every byte received, as a binary string. */
  received: string;
  /** The board closed the connection (FIN) within the case's time. */
  closed: boolean;
}

export interface CaseOutcome { name: string; conns: ConnOutcome[] }

/** What a case runs on: the simulator or the interpreter, each with its own clock. */
export interface Wire {
  open(): WireConn;
  /** Lets `ms` of the client's time pass (the board runs meanwhile). */
  sleep(ms: number): Promise<void>;
  /** Lets time pass until cond() holds or `ms` passed; returns cond(). */
  until(cond: () => boolean, ms: number): Promise<boolean>;
}

export interface WireConn {
  refused(): string | undefined;
  write(data: Buffer): void;
  end(): void;
  received(): Buffer;
  closedByBoard(): boolean;
}

/** Runs one case on a wire. */
export async function runCase(w: Wire, c: Case): Promise<CaseOutcome> {
  const conns: WireConn[] = [];
  let t = 0;
  for (const a of [...c.actions].sort((x, y) => x.at - y.at)) {
    if (a.at > t) { await w.sleep(a.at - t); t = a.at; }
    if (a.op === "open") { conns[a.conn] = w.open(); continue; }
    const k = conns[a.conn];
    if (!k || k.refused() || k.closedByBoard()) continue;
    if (a.op === "send") k.write(Buffer.from(a.data, "latin1"));
    else k.end();
  }
  const open = () => conns.filter((k) => !k.refused() && !k.closedByBoard());
  await w.until(() => open().length === 0, c.waitMs);
  if (c.endAfterMs !== undefined) {
    for (const k of open()) k.end();
    await w.sleep(c.endAfterMs);
  }
  return {
    name: c.name,
    conns: conns.map((k) => ({ ...(k.refused() ? { refused: k.refused() } : {}), received: k.received().toString("latin1"), closed: k.closedByBoard() })),
  };
}

// ---- requests -------------------------------------------------------------------------------------------------

/** esp_prov's request head (tools/esp_prov/transport/transport_http.py), Content-Length set from the body. */
export function post(path: string, body: string | Uint8Array, extra: string[] = []): string {
  const b = typeof body === "string" ? body : Buffer.from(body).toString("latin1");
  return [`POST ${path} HTTP/1.1`, "Host: 192.168.4.1", "Accept-Encoding: identity", "Content-type: application/x-www-form-urlencoded",
    "Accept: text/plain", `Content-Length: ${b.length}`, ...extra].join("\r\n") + "\r\n\r\n" + b;
}

/** A request with the head exactly as given (no Content-Length added). */
export function raw(head: string[], body = ""): string {
  return head.join("\r\n") + "\r\n\r\n" + body;
}

/** One connection: open, send the pieces `gapMs` apart (TCP segments of their own), wait for the board. */
export function single(name: string, pieces: string[], o: { gapMs?: number; waitMs?: number; endAfterMs?: number; endAt?: number } = {}): Case {
  const gap = o.gapMs ?? 0, actions: Action[] = [{ at: 0, conn: 0, op: "open" }];
  pieces.forEach((data, i) => actions.push({ at: 50 + i * gap, conn: 0, op: "send", data }));
  if (o.endAt !== undefined) actions.push({ at: o.endAt, conn: 0, op: "end" });
  return { name, actions, waitMs: o.waitMs ?? 20000, endAfterMs: o.endAfterMs };
}

/** Splits a string into pieces of n characters. */
export function pieces(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}

/** The proto-ver probe esp_prov sends. */
const VER = post("/proto-ver", "none");

/**
 * Every bad input the HTTP transport handles (src/transport/http-protocomm.ts, docs/http.md) and the ways a
 * body can arrive, on the session-free endpoint proto-ver unless the case is about sessions: requests that arrive
 * whole, so the board closes every connection.
 */
export function completeCases(): Case[] {
  const big = "x".repeat(5000);
  return [
    single("proto-ver", [VER]),
    single("proto-ver, lower-case content-length", [raw(["POST /proto-ver HTTP/1.1", "content-length: 4"], "none")]),
    single("proto-ver, no space after the colon", [raw(["POST /proto-ver HTTP/1.1", "Content-Length:4"], "none")]),
    single("proto-ver, header names in other cases and odd spacing", [raw(["POST /proto-ver HTTP/1.1", "CONTENT-LENGTH:    4", "X-Empty:", ": no name"], "none")]),
    single("unknown path", [post("/nope", "none")]),
    single("path with a query", [post("/proto-ver?x=1", "none")]),
    single("PUT", [raw(head("4", "/prov-session", "PUT"), "none")]),
    single("lower-case method", [raw(head("4", "/proto-ver", "post"), "none")]),
    single("HEAD", [raw(["HEAD / HTTP/1.1", "Host: 192.168.4.1"])]),
    single("request line without a version", [raw(["POST /proto-ver", "Content-Length: 4"], "none")]),
    single("no Content-Length", [raw(["POST /proto-ver HTTP/1.1", "Host: 192.168.4.1"])]),
    single("no Content-Length, body sent anyway", [raw(["POST /proto-ver HTTP/1.1", "Host: 192.168.4.1"], "none")]),
    single("Content-Length 0", [raw(head("0"))]),
    single("Content-Length 0x10 and 16 bytes", [raw(head("0x10"), "none".repeat(4))]),
    single("Content-Length twice", [raw([...head("4"), "Content-Length: 0"], "none")]),
    single("oversize body, sent whole", pieces(raw(head("5000"), big), 536), { gapMs: 20 }),
    single("body longer than Content-Length", [raw(head("4"), "noneXXXX")]),
    single("two requests in one segment", [VER + VER]),
    single("headers split across segments", ["POST /proto-ver HTTP/1.1\r\nCont", "ent-Length: 4\r\n", "\r", "\nnone"], { gapMs: 200 }),
    single("body one byte per segment", [raw(head("4")), "n", "o", "n", "e"], { gapMs: 200 }),
    single("body over 536 bytes in segments", pieces(raw(head("1200", "/custom-data"), "y".repeat(1200)), 300), { gapMs: 100 }),
    single("slow body: 4 bytes over 6 s (the body timeout is 5 s)", [raw(head("4")), "n", "o", "n", "e"], { gapMs: 1500, waitMs: 4000 }),
    single("whole request, then the client closes its side at once", [VER], { endAt: 50 }),
    single("malformed protobuf to prov-session", [post("/prov-session", "\xff\xff\xff\xff")]),
    single("prov-config without a session", [post("/prov-config", "\x08\x00")]),
    single("custom-data without a session", [post("/custom-data", "hello")]),
    single("GET /", [raw(["GET / HTTP/1.1", "Host: 192.168.4.1", "Accept-Encoding: gzip"])], { waitMs: 30000 }),
    single("GET a captive-portal probe", [raw(["GET /generate_204 HTTP/1.1", "Host: connectivitycheck.gstatic.com"])]),
    single("GET /, the client closes its side right after the request", [raw(["GET / HTTP/1.1", "Host: 192.168.4.1"])], { endAt: 60, waitMs: 30000 }),
    single("chunked body, no Content-Length", [raw(["POST /proto-ver HTTP/1.1", "Transfer-Encoding: chunked"], "4\r\nnone\r\n0\r\n\r\n")]),
    single("chunked body in segments, and a Content-Length", [raw([...head("4"), "Transfer-Encoding: chunked"]), "2\r\nno\r\n", "2\r\nne\r\n", "0\r\n\r\n"], { gapMs: 200 }),
  ];
}

/**
 * Clients that leave before their request is complete, or whose Content-Length makes the server wait for a body
 * that never comes. Espruino's server never closes such a connection (libs/network/socketserver.c: it closes
 * only once the response ended, the headers were parsed and Content-Length bytes arrived), so on the board each
 * keeps one of lwIP's sockets until a reset: they run on boards of their own, a few per board.
 */
export function abandonedCases(): Case[] {
  return [
    // Odd Content-Length values with no body: whether the server then waits for a body shows how it read the value.
    ...["abc", "-4", "+4", "0x4", "0x10", "4abc", "4.5", "010", "1e1", "0000000004", " 4 "].map((cl) =>
      single(`Content-Length ${JSON.stringify(cl)}, no body`, [raw(head(cl))], { waitMs: 2000, endAfterMs: 500 })),
    single("oversize body, never sent", [raw(head("5000"))], { waitMs: 3000, endAfterMs: 2000 }),
    single("headers, then silence past the body timeout", [raw(head("4"))], { waitMs: 8000, endAfterMs: 2000 }),
    single("headers, half the body, then the client closes", [raw(head("4"), "no")], { endAt: 1000, waitMs: 7000 }),
    single("silent client", [], { waitMs: 7000, endAfterMs: 2000 }),
    single("partial headers, then silence", ["POST /proto-ver HTTP/1.1\r\nContent-Len"], { waitMs: 7000, endAfterMs: 2000 }),
    single("chunked, the last chunk never sent", [raw(["POST /proto-ver HTTP/1.1", "Transfer-Encoding: chunked"], "4\r\nnone\r\n")], { waitMs: 7000, endAfterMs: 2000 }),
  ];
}

/** After a session: cookies the board no longer knows, or never gave. */
export function afterSessionCases(secVer: 0 | 1): Case[] {
  const p = `security ${secVer} after the session: `;
  return [
    single(p + "proto-ver with a stale cookie", [post("/proto-ver", "none", ["Cookie: session=12345"])]),
    single(p + "prov-config with a cookie the board never gave", [post("/prov-config", "\x08\x00", ["Cookie: session=1"])]),
    single(p + "a cookie that is not a number", [post("/prov-config", "\x08\x00", ["Cookie: session=abc; other=1"])]),
  ];
}

/** Within a session (its cookie): Security 0 bodies are plain, so a body over 536 bytes reaches a handler. */
export function inSessionCases(secVer: 0 | 1, cookie: string): Case[] {
  if (secVer === 1) return [];
  return [single("security 0 session: custom-data, 1,200 bytes in 300-byte segments",
    pieces(post("/custom-data", "z".repeat(1200), [`Cookie: ${cookie}`]), 300), { gapMs: 100 })];
}

/**
 * What one fresh board is asked: the cases, then an esp_prov session (if any), then what comes after it. The
 * session comes last: once provisioned, the firmware stops its AP and server after CONFIG_PROV_AUTOSTOP_S (30 s),
 * which the two sides' clocks reach after different numbers of cases.
 */
export interface Group { name: string; secVer: 0 | 1; cases: Case[]; session: boolean; after: Case[] }

/** Abandoned clients keep sockets: at most this many per board, so that every case can still connect (10 sockets
 * less the listening one and the captive DNS's). */
export const ABANDONED_PER_BOARD = 7;

export function groups(): Group[] {
  const ab = abandonedCases(), out: Group[] = [
    { name: "Security 1 build: complete requests, a flood, a session", secVer: 1, cases: [...completeCases(), flood(12)], session: true, after: afterSessionCases(1) },
  ];
  for (let i = 0; i < ab.length; i += ABANDONED_PER_BOARD)
    out.push({ name: `Security 1 build: clients that leave mid-request (${i / ABANDONED_PER_BOARD + 1})`, secVer: 1, cases: ab.slice(i, i + ABANDONED_PER_BOARD), session: false, after: [] });
  out.push({ name: "Security 0 build: a session", secVer: 0, cases: [], session: true, after: afterSessionCases(0) });
  return out;
}

/** The Security 0 build's config: the SoftAP test config (test-host/configs/softap.sdkconfig) with Security 0. */
export function securityZero(config: string): string {
  return config.replace(/^CONFIG_PROV_SECURITY_VERSION=.*$/m, "CONFIG_PROV_SECURITY_VERSION=0");
}

function head(cl: string, path = "/proto-ver", method = "POST") {
  return [`${method} ${path} HTTP/1.1`, "Host: 192.168.4.1", `Content-Length: ${cl}`];
}

/**
 * `n` clients connect at once, then each asks proto-ver: Espruino's server takes them all; on the ESP32 lwIP has
 * 10 sockets (the listening one and the captive DNS's among them), so the rest are refused (EXPLAINED).
 */
export function flood(n: number): Case {
  const actions: Action[] = [];
  for (let i = 0; i < n; i++) actions.push({ at: 0, conn: i, op: "open" }, { at: 300, conn: i, op: "send", data: VER });
  return { name: `flood: ${n} connections at once`, actions, waitMs: 20000 };
}

// ---- comparison -------------------------------------------------------------------------------------------------

/** A difference the simulator keeps on purpose, with its source. */
export interface Explained {
  case: RegExp;
  /** Which difference: the same label `compare` gives it. */
  what: RegExp;
  why: string;
}

/**
 * Differences that are not simulator bugs: what the Linux build does differently from the ESP32 build, which the
 * simulator models. Each names its source; docs/differential.md lists them.
 */
export const EXPLAINED: Explained[] = [
  {
    case: /^flood: /, what: /^connection (9|1[0-9]): refused/,
    why: "the ESP32 build's lwIP has 10 sockets (CONFIG_LWIP_MAX_SOCKETS, counted with the listening and the captive DNS's), the Linux build takes every connection (libs/network/linux/network_linux.c: host sockets, listen backlog 10)",
  },
];

/** A real-interpreter outcome against the simulator's: one line per difference ("" when identical). */
export function compareCase(real: CaseOutcome, sim: CaseOutcome): string[] {
  const out: string[] = [];
  const n = Math.max(real.conns.length, sim.conns.length);
  for (let i = 0; i < n; i++) {
    const r = real.conns[i], s = sim.conns[i], at = n > 1 ? `connection ${i + 1}: ` : "";
    if (!r || !s) { out.push(`${at}missing on the ${r ? "simulator" : "interpreter"}'s side`); continue; }
    if (!!r.refused !== !!s.refused) { out.push(`${at}refused: interpreter ${r.refused || "no"}, simulator ${s.refused || "no"}`); continue; }
    const rp = splitResponse(r.received), sp = splitResponse(s.received);
    if (rp.status !== sp.status) out.push(`${at}status line: interpreter ${JSON.stringify(rp.status)}, simulator ${JSON.stringify(sp.status)}`);
    if (rp.headers.join("\n") !== sp.headers.join("\n")) out.push(`${at}headers: interpreter ${JSON.stringify(rp.headers)}, simulator ${JSON.stringify(sp.headers)}`);
    if (rp.body !== sp.body) out.push(`${at}body: interpreter ${show(rp.body)}, simulator ${show(sp.body)}`);
    if (r.closed !== s.closed) out.push(`${at}closed by the board: interpreter ${r.closed ? "yes" : "no"}, simulator ${s.closed ? "yes" : "no"}`);
  }
  return out;
}

/** The differences of a whole run, split into explained ones and the rest. */
export function compareRuns(real: CaseOutcome[], sim: CaseOutcome[], explained = EXPLAINED) {
  const unexplained: string[] = [], known: string[] = [];
  const byName = new Map(sim.map((c) => [c.name, c]));
  for (const r of real) {
    const s = byName.get(r.name);
    const diffs = s ? compareCase(r, s) : ["not run on the simulator"];
    for (const d of diffs) {
      const e = explained.find((x) => x.case.test(r.name) && x.what.test(d));
      (e ? known : unexplained).push(`${r.name}: ${d}${e ? ` (explained: ${e.why})` : ""}`);
    }
  }
  for (const s of sim) if (!real.some((r) => r.name === s.name)) unexplained.push(`${s.name}: not run in the interpreter`);
  return { unexplained, explained: known };
}

/** Status line, header lines (in order) and body of what a client received. */
export function splitResponse(received: string): { status: string; headers: string[]; body: string } {
  const end = received.indexOf("\r\n\r\n");
  if (end < 0) return { status: received ? "(incomplete) " + JSON.stringify(received.slice(0, 60)) : "(nothing)", headers: [], body: "" };
  const lines = received.slice(0, end).split("\r\n");
  return { status: lines[0]!, headers: lines.slice(1), body: received.slice(end + 4) };
}

function show(b: string): string {
  const printable = /^[\x20-\x7e\r\n]*$/.test(b);
  const s = printable ? JSON.stringify(b) : "0x" + Buffer.from(b, "latin1").toString("hex");
  return s.length > 120 ? s.slice(0, 117) + "…" + ` (${b.length} bytes)` : s;
}
