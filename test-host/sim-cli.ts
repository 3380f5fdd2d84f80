/**
 * npm run sim -- [options]: boots the firmware on a simulated board and keeps running in (scaled) real
 * time, printing the serial log. See HELP below; the README's "Simulator" section has the details.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { SimDevice, loadBundle, DEFAULT_BOARD } from "./sim/device";
import { SimConsole } from "./sim/console";
import { GattMode } from "./sim/ble";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { DEFAULT_WORLD, RadioWorld } from "./sim/wifi";
import { DEFAULT_GATT_PORT } from "./client/transport";
import { DEFAULT_HTTP_PORT } from "./client/http-transport";
import { qrBlock } from "../tools/qr.mjs";
import { COMMANDS_HELP, simCommand } from "./sim/commands";

const HELP = `usage: npm run sim -- [options]
  --flash FILE            simulated flash (Storage) file, kept between runs (default .sim/flash.json)
  --blank                 a board with nothing in Storage yet (do not install dist/firmware.js)
  --wifi FILE             radio world JSON: {"aps":[{"ssid","password","auth","rssi","channel","bssid","ip",...}]}
                          (default: one WPA2 network myssid / mypassword)
  --gatt MODE             deferred-write (default) or espruino-2v29 GATT write semantics
  --gatt-port N           serve the virtual BLE central on 127.0.0.1:N, newline-delimited JSON, for
                          npm run prov (default ${DEFAULT_GATT_PORT}, prov's default too; 0 picks a free port)
  --http-port N           serve the board's SoftAP HTTP server (192.168.4.1:80) on 127.0.0.1:N, as a phone that
                          joined its access point reaches it: npm run prov, esp_prov --transport softap
                          --service_name 127.0.0.1:N (default ${DEFAULT_HTTP_PORT}; 0 picks a free port); refused while
                          the board's AP is down
  --console-port N        serve the serial console (Espruino REPL) on 127.0.0.1:N; 0 picks a free port
  --slowdown X            interpreter slow-down against host time (default ${DEFAULT_SLOWDOWN})
  --espruino-version V    process.env.VERSION of the simulated Espruino build (default 2v29)
  --without ble,crypto    simulate an Espruino build lacking BLE (no NRF) and/or the crypto module
  --storage-bytes N       size of the Storage area (default ${DEFAULT_BOARD.storageBytes}, the ESP32 4 MB layout)
  --mac AA:BB:CC:DD:EE:FF the board's base MAC: its name (PROV_DDEEFF) and its RNG stream (default 24:0a:c4:26:1f:cc)
${COMMANDS_HELP}
A client that closes its --gatt-port connection is disconnected, as a phone walking out of range.
Ctrl-C (SIGINT) or SIGTERM stops the simulator.`;

/** A one-line refusal: 2 for a bad argument, 1 for what the machine refuses (a busy port). */
const fail = (m: string, code = 2): never => { console.error(`sim: ${m}`); process.exit(code); };
const port = (v: string) => (/^\d+$/.test(v) && +v <= 65535 ? undefined : "must be a TCP port number (0-65535)");
/** Each option that takes a value, with its check (undefined = fine, else why not). */
const VALUE_OPTIONS: Record<string, (v: string) => string | undefined> = {
  flash: () => undefined,
  wifi: () => undefined,
  gatt: (v) => (v === "espruino-2v29" || v === "deferred-write" ? undefined : "must be espruino-2v29 or deferred-write"),
  "gatt-port": port,
  "http-port": port,
  "console-port": port,
  slowdown: (v) => (/^\d+(\.\d+)?$/.test(v) ? undefined : "must be a number (0 or more), e.g. 100"),
  "espruino-version": (v) => (/^\d+v\d+(\.\d+)?$/.test(v) ? undefined : "looks like 2v29"),
  without: (v) => v.split(",").filter((w) => w !== "ble" && w !== "crypto").map((w) => `takes ble and/or crypto, not '${w}'`)[0],
  mac: (v) => (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v) ? undefined : "must look like AA:BB:CC:DD:EE:FF"),
  "storage-bytes": (v) => (/^\d+$/.test(v) && +v >= 4096 ? undefined : "must be a whole number of bytes, at least 4096"),
};
const a = process.argv.slice(2), o: Record<string, string> = {};
for (let i = 0; i < a.length; i++) {
  if (a[i] === "--help" || a[i] === "-h") { console.log(HELP); process.exit(0); }
  if (a[i] === "--blank") { o.blank = "1"; continue; }
  const name = a[i]!.startsWith("--") ? a[i]!.slice(2) : "";
  const check = VALUE_OPTIONS[name];
  if (!check) fail(`unknown option '${a[i]}'`);
  const v = a[i + 1];
  if (v === undefined || v.startsWith("--")) fail(`--${name} needs a value`);
  if (name in o) fail(`--${name} given twice`);
  const bad = check!(v!);
  if (bad) fail(`--${name} ${bad}, not '${v}'`);
  o[name] = v!;
  i++;
}
const without = (o.without || "").split(",").filter(Boolean);
const storageBytes = o["storage-bytes"] ? Number(o["storage-bytes"]) : DEFAULT_BOARD.storageBytes;
let world: RadioWorld = DEFAULT_WORLD;
if (o.wifi) {
  try { world = JSON.parse(fs.readFileSync(o.wifi, "utf8")); } catch (e) { fail(`cannot read radio world ${o.wifi}: ${(e as Error).message}`); }
  if (!Array.isArray(world?.aps)) fail(`radio world ${o.wifi} needs {"aps":[...]}`);
}
const gattPort = Number(o["gatt-port"] ?? DEFAULT_GATT_PORT);
const httpPort = Number(o["http-port"] ?? DEFAULT_HTTP_PORT);

/** Listens on 127.0.0.1:port; a port in use is a one-line error before anything boots. */
function listen(server: net.Server, p: number, what: string, flag: string): Promise<number> {
  return new Promise((resolve) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      fail(e.code === "EADDRINUSE" ? `port ${p} (${what}) is already in use, perhaps by another npm run sim: stop that or pass ${flag} N`
        : `cannot listen on 127.0.0.1:${p} (${what}): ${e.code || e.message}`, 1);
    });
    server.listen(p, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

// Servers first: their connections are only served once the device exists, but a busy port must stop
// the simulator before the firmware boots (and before the flash file is touched).
let d: SimDevice | undefined, repl: SimConsole | undefined;
const sockets = new Set<net.Socket>();
const consoleServer = o["console-port"] === undefined ? undefined : net.createServer((s) => {
  sockets.add(s);
  s.setNoDelay(true);
  s.on("data", (b) => repl!.input(b.toString("latin1")));
  s.on("close", () => sockets.delete(s));
  s.on("error", () => sockets.delete(s));
});
const gattServer = net.createServer(serveCentral);
const consolePort = consoleServer && (await listen(consoleServer, Number(o["console-port"]), "serial console", "--console-port"));
const centralPort = await listen(gattServer, gattPort, "virtual BLE central", "--gatt-port");
const httpServer = net.createServer(serveHttp);
const boardHttpPort = await listen(httpServer, httpPort, "the board's HTTP server", "--http-port");

/** The board's serial log on stdout; the provisioning payload line is followed by its QR code. */
function logLine(line: string) {
  console.log(line);
  const qr = qrBlock(line, { color: !!process.stdout.isTTY && process.env.NO_COLOR === undefined });
  if (qr) console.log(qr.join("\n"));
}

fs.mkdirSync(path.dirname(o.flash || ".sim/flash.json"), { recursive: true });
d = new SimDevice({
  world, gatt: (o.gatt as GattMode) || "deferred-write", flashFile: o.flash || ".sim/flash.json",
  slowdown: o.slowdown ? Number(o.slowdown) : DEFAULT_SLOWDOWN, echo: logLine,
  board: { ...DEFAULT_BOARD, storageBytes }, mac: o.mac?.toLowerCase(),
  firmware: { version: o["espruino-version"], ble: !without.includes("ble"), crypto: !without.includes("crypto") },
});
if (!o.blank && !d.flash.files.has(".boot0")) {
  try { d.install(loadBundle()); } catch (e) { fail(`${(e as Error).message} (or start a blank board with --blank)`, 1); }
}
// The console must exist before boot so the boot output reaches a client that is already connected.
if (consoleServer) repl = new SimConsole(d, (raw) => { for (const s of sockets) s.write(raw, "latin1"); });
if (consolePort !== undefined) console.error(`sim: serial console on tcp://127.0.0.1:${consolePort}`);
console.error(`sim: virtual central on 127.0.0.1:${centralPort}`);
console.error(`sim: board's HTTP server (192.168.4.1:80 on its access point) on 127.0.0.1:${boardHttpPort}`);
d.boot();
// The world around the board, from standard input (test-host/sim/commands.ts).
process.stdin.setEncoding("utf8");
let typed = "";
process.stdin.on("data", (chunk: string) => {
  typed += chunk;
  for (let i; (i = typed.indexOf("\n")) >= 0; typed = typed.slice(i + 1)) {
    const line = typed.slice(0, i);
    if (!line.trim()) continue;
    try { console.error(`sim: ${simCommand(d!, line)}`); } catch (e) { console.error(`sim: ${(e as Error).message}`); }
  }
});
// Device time follows wall time: each tick runs the board for the wall time owed since the last one, so time
// lost to a busy host is made up instead of slowing the board against its clients' clocks; but at most 1 s per
// tick, so the board never leaps past bytes a client has already sent (they are read between ticks): a leap of
// 5 s would time out a request whose body had arrived (the firmware's body timeout).
let lastTick = performance.now(), owed = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  owed += now - lastTick;
  lastTick = now;
  const step = Math.min(owed, 1000);
  d!.run(step);
  owed -= step;
}, 100);

/** The --gatt-port client whose connect op made the current BLE link. */
let linkOwner: net.Socket | undefined;

/** One --gatt-port client: JSON requests in, JSON answers out; its closed socket drops its BLE link. */
function serveCentral(s: net.Socket) {
  const dev = d!;
  const ops: Record<string, (m: any) => object> = {
    scan: () => ({ devices: dev.ble.scan() }),
    connect: (m) => (dev.ble.connect(m.mtu ?? 23), (linkOwner = s), {}),
    discover: () => ({ services: dev.ble.discover() }),
    write: (m) => (dev.ble.write(m.char, Buffer.from(m.hex, "hex")), {}),
    read: (m) => ({ hex: Buffer.from(dev.ble.read(m.char)).toString("hex") }),
    disconnect: () => (dev.ble.disconnect(), (linkOwner = undefined), {}),
  };
  let buf = "";
  s.on("data", (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      let r: object;
      try { const m = JSON.parse(line); if (!ops[m.op]) throw new Error(`unknown op ${m.op}`); r = { ok: true, ...ops[m.op]!(m) }; }
      catch (e) { r = { ok: false, error: (e as Error).message }; }
      if (!s.destroyed) s.write(JSON.stringify(r) + "\n");
    }
  });
  s.on("error", () => {});
  // A central that goes away (crash, Ctrl-C, no disconnect op) is a link loss, as on a real radio.
  s.on("close", () => {
    if (linkOwner === s && dev.ble.connected) { console.error("sim: virtual-central client closed its connection: BLE link dropped"); dev.ble.disconnect(); }
  });
}

/**
 * One TCP connection from --http-port is one TCP connection to the board's port 80 (test-host/sim/http.ts
 * models Espruino's server); bytes pass unchanged both ways, so real HTTP clients (esp_prov's http.client,
 * curl) talk to the firmware. While the board's AP is down the connection is reset, as an unreachable host.
 */
function serveHttp(s: net.Socket) {
  let board: ReturnType<SimDevice["http"]["connect"]>;
  try { board = d!.http.connect(80); } catch (e) { console.error(`sim: HTTP client refused: ${(e as Error).message}`); s.destroy(); return; }
  board.onData = (b) => { if (!s.destroyed) s.write(b); };
  board.onClose = () => s.end();
  s.on("data", (b) => { if (!board.closed) board.write(b); });
  s.on("close", () => board.end());
  s.on("error", () => board.end());
}

function stop(sig: string) {
  clearInterval(ticker);
  for (const s of sockets) s.destroy();
  consoleServer?.close();
  gattServer.close();
  httpServer.close();
  console.error(`sim: stopped (${sig})`);
  process.exit(0);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
