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

const HELP = `usage: npm run sim -- [options]
  --flash FILE            simulated flash (Storage) file, kept between runs (default .sim/flash.json)
  --blank                 a board with nothing in Storage yet (do not install dist/firmware.js)
  --wifi FILE             radio world JSON: {"aps":[{"ssid","password","auth","rssi","channel","bssid","ip",...}]}
  --gatt MODE             deferred-write (default) or espruino-2v29 GATT write semantics
  --gatt-port N           serve the virtual BLE central on 127.0.0.1:N (newline-delimited JSON)
  --http-port N           serve the board's SoftAP HTTP server (port 80 at 192.168.4.1) on 127.0.0.1:N, as a
                          phone that joined its access point reaches it (esp_prov --transport softap
                          --service_name 127.0.0.1:N); refused while the AP is down
  --console-port N        serve the serial console (Espruino REPL) on 127.0.0.1:N; 0 picks a free port
  --slowdown X            interpreter slow-down against host time (default ${DEFAULT_SLOWDOWN})
  --espruino-version V    process.env.VERSION of the simulated Espruino build (default 2v29)
  --without ble,crypto    simulate an Espruino build lacking BLE (no NRF) and/or the crypto module
  --storage-bytes N       size of the Storage area (default ${DEFAULT_BOARD.storageBytes}, the ESP32 4 MB layout)`;
const VALUE = /^--(flash|wifi|gatt|gatt-port|http-port|console-port|slowdown|espruino-version|without|storage-bytes)$/;
const a = process.argv.slice(2), o: Record<string, string> = {};
for (let i = 0; i < a.length; i++) {
  if (a[i] === "--help" || a[i] === "-h") { console.log(HELP); process.exit(0); }
  if (a[i] === "--blank") { o.blank = "1"; continue; }
  if (!VALUE.test(a[i]!) || a[i + 1] === undefined) { console.error(`sim: bad argument ${a[i]}\n${HELP}`); process.exit(2); }
  o[a[i]!.slice(2)] = a[++i]!;
}
const fail = (m: string) => { console.error(`sim: ${m}`); process.exit(2); };
if (o.gatt && o.gatt !== "espruino-2v29" && o.gatt !== "deferred-write") fail("--gatt must be espruino-2v29 or deferred-write");
const without = (o.without || "").split(",").filter(Boolean);
for (const w of without) if (w !== "ble" && w !== "crypto") fail(`--without takes ble and/or crypto, not '${w}'`);
if (o["espruino-version"] && !/^\d+v\d+(\.\d+)?$/.test(o["espruino-version"])) fail("--espruino-version looks like 2v29");
const storageBytes = o["storage-bytes"] ? Number(o["storage-bytes"]) : DEFAULT_BOARD.storageBytes;
if (!(storageBytes >= 4096)) fail("--storage-bytes must be a number of at least 4096");
let world: RadioWorld = DEFAULT_WORLD;
if (o.wifi) {
  try { world = JSON.parse(fs.readFileSync(o.wifi, "utf8")); } catch (e) { fail(`cannot read radio world ${o.wifi}: ${(e as Error).message}`); }
}
fs.mkdirSync(path.dirname(o.flash || ".sim/flash.json"), { recursive: true });
const d = new SimDevice({
  world, gatt: (o.gatt as GattMode) || "deferred-write", flashFile: o.flash || ".sim/flash.json",
  slowdown: o.slowdown ? Number(o.slowdown) : DEFAULT_SLOWDOWN, echo: (l) => console.log(l),
  board: { ...DEFAULT_BOARD, storageBytes },
  firmware: { version: o["espruino-version"], ble: !without.includes("ble"), crypto: !without.includes("crypto") },
});
if (!o.blank && !d.flash.files.has(".boot0")) d.install(loadBundle());

// The console must exist before boot so the boot output reaches a client that is already connected.
const sockets = new Set<net.Socket>();
const repl = o["console-port"] !== undefined ? new SimConsole(d, (raw) => { for (const s of sockets) s.write(raw, "latin1"); }) : undefined;
d.boot();
setInterval(() => d.run(100), 100); // device time follows wall time

if (repl) {
  net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on("data", (b) => repl.input(b.toString("latin1")));
    s.on("close", () => sockets.delete(s));
    s.on("error", () => sockets.delete(s));
  }).listen(Number(o["console-port"]), "127.0.0.1", function (this: net.Server) {
    console.error(`sim: serial console on tcp://127.0.0.1:${(this.address() as net.AddressInfo).port}`);
  });
}
if (o["gatt-port"]) {
  const ops: Record<string, (m: any) => object> = {
    scan: () => ({ devices: d.ble.scan() }),
    connect: (m) => (d.ble.connect(m.mtu ?? 23), {}),
    discover: () => ({ services: d.ble.discover() }),
    write: (m) => (d.ble.write(m.char, Buffer.from(m.hex, "hex")), {}),
    read: (m) => ({ hex: Buffer.from(d.ble.read(m.char)).toString("hex") }),
    disconnect: () => (d.ble.disconnect(), {}),
  };
  net.createServer((s) => {
    let buf = "";
    s.on("data", (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        let r: object;
        try { const m = JSON.parse(line); if (!ops[m.op]) throw new Error(`unknown op ${m.op}`); r = { ok: true, ...ops[m.op]!(m) }; }
        catch (e) { r = { ok: false, error: (e as Error).message }; }
        s.write(JSON.stringify(r) + "\n");
      }
    });
  }).listen(Number(o["gatt-port"]), "127.0.0.1", () => console.error(`sim: virtual central on 127.0.0.1:${o["gatt-port"]}`));
}
if (o["http-port"]) {
  // Each TCP connection is one TCP connection to the board's port 80 (test-host/sim/http.ts models Espruino's
  // server); the bytes go through unchanged, so real HTTP clients (esp_prov's http.client) talk to the firmware.
  net.createServer((s) => {
    let board: ReturnType<typeof d.http.connect>;
    try { board = d.http.connect(80); } catch (e) { console.error(`sim: ${(e as Error).message}`); s.destroy(); return; }
    board.onData = (b) => s.write(b);
    board.onClose = () => s.end();
    s.on("data", (b) => { if (!board.closed) board.write(b); });
    s.on("close", () => board.end());
    s.on("error", () => board.end());
  }).listen(Number(o["http-port"]), "127.0.0.1", () => console.error(`sim: board's HTTP server (192.168.4.1:80) on 127.0.0.1:${o["http-port"]}`));
}
