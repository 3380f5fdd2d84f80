/**
 * npm run sim -- [options]: boots the firmware on a simulated board and keeps running in (scaled) real
 * time, printing the serial log. See HELP below; the README's "Simulator" section has the details.
 */
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { SimDevice, loadBundle, DEFAULT_BOARD } from "./sim/device";
import { SimConsole } from "./sim/console";
import { bridgeUdp } from "./sim/dgram";
import { GattMode } from "./sim/ble";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { DEFAULT_WORLD, RadioWorld } from "./sim/wifi";
import { DEFAULT_GATT_PORT } from "./client/transport";
import { DEFAULT_HTTP_PORT } from "./client/http-transport";
import { qrBlock } from "../tools/qr.mjs";
import { COMMANDS_HELP, simCommand } from "./sim/commands";

const HELP = `usage: npm run sim -- [options]
  --flash FILE            simulated flash (Storage) file, kept between runs (default .sim/flash.json); NVS (BLE
                          on/off) beside it in FILE.nvs.json. The default file always gets the current build as
                          .boot0 (as npm run flash); a FILE you name gets it only when it holds no .boot0
  --blank                 a board with nothing in Storage yet (do not install dist/firmware.js)
Before installing, dist/firmware.js is rebuilt (npm run build, with the config named in dist/build-info.json,
default sdkconfig) when it is missing or that config, config/schema.json, the board file, proto/ or src/ is newer.
  --wifi FILE             radio world JSON: {"aps":[{"ssid","password","auth","rssi","channel","bssid","ip",...}]}
                          (default: one WPA2 network myssid / mypassword)
  --gatt MODE             GATT write semantics: espruino-2v29 (default: stock Espruino 2v29 acknowledges a write
                          before any JS runs, so BLE protocomm cannot work) or deferred-write (a patched Espruino
                          that acknowledges once the firmware stored its reply)
  --gatt-port N           serve the virtual BLE central on 127.0.0.1:N, newline-delimited JSON, for
                          npm run prov (default ${DEFAULT_GATT_PORT}, prov's default too; 0 picks a free port)
  --http-port N           serve the board's SoftAP HTTP server (192.168.4.1:80) on 127.0.0.1:N, as a phone that
                          joined its access point reaches it: npm run prov, esp_prov --transport softap
                          --service_name 127.0.0.1:N (default ${DEFAULT_HTTP_PORT}; 0 picks a free port); refused while
                          the board's AP is down
  --dns-port N            serve the board's DNS (UDP 53 on its access point, the captive DNS) on 127.0.0.1:N
                          (UDP; off unless given; 0 picks a free port); silent while the board's AP is down
  --console-port N        serve the serial console (Espruino REPL) on 127.0.0.1:N; 0 picks a free port
  --slowdown X            board cycles per interpreter instruction (default ${DEFAULT_SLOWDOWN}): a JS event's device
                          time is the work it executed (interpreter instructions, test-host/sim/cost-table.ts) × X /
                          the board's clock (boards/esp32.json cpuMhz), never host time; 0.05 runs the interpreter
                          about 30× faster than the board, 0 stops the clock inside JS
  --espruino-version V    process.env.VERSION of the simulated Espruino build (default 2v29)
  --without ble,crypto    simulate an Espruino build lacking BLE (no NRF) and/or the crypto module
  --storage-bytes N       size of the Storage area (default ${DEFAULT_BOARD.storageBytes}, the ESP32 4 MB layout)
  --mac AA:BB:CC:DD:EE:FF the board's base MAC: its name (PROV_DDEEFF) and its RNG stream (default 24:0a:c4:26:1f:cc)
${COMMANDS_HELP}
A client that closes its --gatt-port connection is disconnected, as a phone walking out of range.
Ctrl-C (SIGINT) or SIGTERM stops the simulator; it then dies of that signal (exit status 130 or 143), as
the board's process would.`;

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
  "dns-port": port,
  "console-port": port,
  slowdown: (v) => (/^\d+(\.\d+)?$/.test(v) ? undefined : "must be a number (0 or more), e.g. 0.05"),
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

/** Listens on 127.0.0.1:port; resolves with the port, or with why not (the error code). */
function listen(server: net.Server, p: number): Promise<number | string> {
  return new Promise((resolve) => {
    server.once("error", (e: NodeJS.ErrnoException) => resolve(e.code || e.message));
    server.listen(p, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** Listens on every port at once; any port refused is one line naming them all, before anything boots. */
async function listenAll(wanted: { server: net.Server; port: number; what: string; flag: string }[]): Promise<number[]> {
  const got = await Promise.all(wanted.map((w) => listen(w.server, w.port)));
  const bad = wanted.filter((_, i) => typeof got[i] === "string");
  if (!bad.length) return got as number[];
  for (const w of wanted) w.server.close();
  const busy = bad.filter((w) => got[wanted.indexOf(w)] === "EADDRINUSE"), other = bad.filter((w) => !busy.includes(w));
  const and = (l: string[]) => l.join(" and ");
  if (!other.length) {
    fail(`${busy.length > 1 ? "ports" : "port"} ${and(busy.map((w) => `${w.port} (${w.what})`))} ${busy.length > 1 ? "are" : "is"} already in use, ` +
      `perhaps by another npm run sim: stop that or pass ${and(busy.map((w) => `${w.flag} N`))}`, 1);
  }
  return fail(and(bad.map((w) => `cannot listen on 127.0.0.1:${w.port} (${w.what}): ${got[wanted.indexOf(w)]}`)), 1);
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
// Half-open allowed: a client's FIN passes to the board, which may still answer (test-host/sim/http.ts end()).
const httpServer = net.createServer({ allowHalfOpen: true }, serveHttp);
const [centralPort, boardHttpPort, consolePort] = await listenAll([
  { server: gattServer, port: gattPort, what: "virtual BLE central", flag: "--gatt-port" },
  { server: httpServer, port: httpPort, what: "the board's HTTP server", flag: "--http-port" },
  ...(consoleServer ? [{ server: consoleServer, port: Number(o["console-port"]), what: "serial console", flag: "--console-port" }] : []),
]);
const dnsSocket = o["dns-port"] === undefined ? undefined : dgram.createSocket("udp4");
const dnsPort = dnsSocket && await new Promise<number>((resolve) => {
  dnsSocket.once("error", (e: NodeJS.ErrnoException) => fail(`cannot listen on UDP 127.0.0.1:${o["dns-port"]} (the board's DNS): ${e.code || e.message}`, 1));
  dnsSocket.bind(Number(o["dns-port"]), "127.0.0.1", () => resolve(dnsSocket.address().port));
});

/** The board's serial log on stdout; the provisioning payload line is followed by its QR code. */
function logLine(line: string) {
  console.log(line);
  const qr = qrBlock(line, { color: !!process.stdout.isTTY && process.env.NO_COLOR === undefined });
  if (qr) console.log(qr.join("\n"));
}

/** Every file under dir (none if it does not exist). */
const filesUnder = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => path.join(dir, f)) : []);

/**
 * dist/firmware.js as npm run build would make it now: rebuilt, saying why, when it is missing or older than
 * anything it is built from (the config dist/build-info.json names, the schema, the board file, proto/, src/).
 */
async function currentBundle(): Promise<string> {
  const out = "dist/firmware.js";
  let info = { config: "sdkconfig", board: "esp32" };
  try { info = { ...info, ...JSON.parse(fs.readFileSync("dist/build-info.json", "utf8")) }; } catch { /* never built: the defaults */ }
  const builtAt = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  const inputs = [info.config, "config/schema.json", `boards/${info.board}.json`, ...filesUnder("proto"), ...filesUnder("src")];
  const newer = builtAt ? inputs.find((f) => fs.existsSync(f) && fs.statSync(f).isFile() && fs.statSync(f).mtimeMs > builtAt) : undefined;
  if (!builtAt || newer) {
    console.error(`sim: ${newer ? `${newer} is newer than ${out}` : `${out} is missing`}: rebuilding it (npm run build -- --config ${info.config})`);
    // Loaded only when needed: rollup and terser take a while to import.
    const { build } = await import("../tools/build.mjs");
    try { await build({ board: info.board, config: info.config, out }); } catch (e) {
      fail(`the build failed: ${(e as Error).message} (fix it, then npm run build; or start a blank board with --blank)`, 1);
    }
  }
  return loadBundle(out);
}

fs.mkdirSync(path.dirname(o.flash || ".sim/flash.json"), { recursive: true });
// The default is what the named Espruino does (test-host/sim/ble.ts): stock 2v29 acknowledges a write before JS runs.
const gatt = (o.gatt as GattMode) || "espruino-2v29";
d = new SimDevice({
  world, gatt, flashFile: o.flash || ".sim/flash.json",
  slowdown: o.slowdown ? Number(o.slowdown) : DEFAULT_SLOWDOWN, echo: logLine,
  board: { ...DEFAULT_BOARD, storageBytes }, mac: o.mac?.toLowerCase(),
  firmware: { version: o["espruino-version"], ble: !without.includes("ble"), crypto: !without.includes("crypto") },
});
// The default flash follows the build, as a board you npm run flash after every change; a flash file you name keeps
// the firmware it holds (a board flashed before), unless it holds none.
const defaultFlash = path.resolve(o.flash || ".sim/flash.json") === path.resolve(".sim/flash.json");
if (!o.blank && (defaultFlash || !d.flash.files.has(".boot0"))) {
  const bundle = await currentBundle(), old = d.flash.files.get(".boot0");
  if (!old || Buffer.compare(Buffer.from(old), Buffer.from(bundle, "latin1")) !== 0) {
    d.install(bundle);
    console.error(`sim: installed dist/firmware.js as .boot0 in ${o.flash || ".sim/flash.json"}${old ? " (replacing an older build; the rest of Storage kept, as npm run flash)" : ""}`);
  }
}
if (!o.blank) d.installPage(); // the provisioning page, as npm run flash uploads it (when it has been built)
// The console must exist before boot so the boot output reaches a client that is already connected.
if (consoleServer) repl = new SimConsole(d, (raw) => { for (const s of sockets) s.write(raw, "latin1"); });
if (consolePort !== undefined) console.error(`sim: serial console on tcp://127.0.0.1:${consolePort}`);
console.error(`sim: Espruino ${d.version()} on ESP32, GATT writes ${gatt === "espruino-2v29" ? "espruino-2v29 (acknowledged before any JS runs, as stock Espruino: BLE provisioning cannot work; --gatt deferred-write models a patched firmware)" : "deferred-write (acknowledged once the firmware stored its reply: a patched Espruino, not stock 2v29)"}`);
console.error(`sim: virtual central on 127.0.0.1:${centralPort}`);
console.error(`sim: board's HTTP server (192.168.4.1:80 on its access point) on 127.0.0.1:${boardHttpPort}`);
if (dnsSocket) { bridgeUdp(dnsSocket, () => d?.dgram, 53); console.error(`sim: board's DNS (192.168.4.1:53 on its access point) on UDP 127.0.0.1:${dnsPort}`); }
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
  s.on("end", () => board.end());
  s.on("close", () => board.end());
  s.on("error", () => board.end());
}

/** Frees the ports, then dies of the signal itself, so the shell and npm see a signal death (130 for Ctrl-C). */
function stop(sig: NodeJS.Signals) {
  clearInterval(ticker);
  for (const s of sockets) s.destroy();
  consoleServer?.close();
  gattServer.close();
  httpServer.close();
  dnsSocket?.close();
  console.error(`sim: stopped (${sig})`);
  process.removeAllListeners(sig);
  process.kill(process.pid, sig);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
