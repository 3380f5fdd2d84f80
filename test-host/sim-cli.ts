/**
 * npm run sim -- [--flash FILE] [--wifi FILE] [--gatt espruino-2v29|deferred-write] [--gatt-port N] [--slowdown X]
 * Boots dist/firmware.js on a simulated board and keeps running in (scaled) real time, printing the serial
 * log. --gatt-port serves the virtual central on 127.0.0.1 as newline-delimited JSON:
 *   {"op":"scan"} {"op":"connect","mtu":517} {"op":"discover"} {"op":"write","char":"<uuid>","hex":"…"}
 *   {"op":"read","char":"<uuid>"} {"op":"disconnect"}  →  {"ok":true,…} | {"ok":false,"error":"…"}
 */
import fs from "node:fs";
import net from "node:net";
import { SimDevice, loadBundle } from "./sim/device";
import { GattMode } from "./sim/ble";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { DEFAULT_WORLD, RadioWorld } from "./sim/wifi";

const HELP = "usage: npm run sim -- [--flash FILE] [--wifi FILE] [--gatt espruino-2v29|deferred-write] [--gatt-port N] [--slowdown X]";
const a = process.argv.slice(2), o: Record<string, string> = {};
for (let i = 0; i < a.length; i++) {
  if (a[i] === "--help") { console.log(HELP); process.exit(0); }
  if (!/^--(flash|wifi|gatt|gatt-port|slowdown)$/.test(a[i]!) || a[i + 1] === undefined) { console.error(`sim: bad argument ${a[i]}\n${HELP}`); process.exit(2); }
  o[a[i]!.slice(2)] = a[++i]!;
}
if (o.gatt && o.gatt !== "espruino-2v29" && o.gatt !== "deferred-write") { console.error(`sim: --gatt must be espruino-2v29 or deferred-write`); process.exit(2); }
let world: RadioWorld = DEFAULT_WORLD;
if (o.wifi) {
  try { world = JSON.parse(fs.readFileSync(o.wifi, "utf8")); } catch (e) { console.error(`sim: cannot read radio world ${o.wifi}: ${(e as Error).message}`); process.exit(2); }
}
const d = new SimDevice({ world, gatt: (o.gatt as GattMode) || "deferred-write", flashFile: o.flash || ".sim/flash.json", slowdown: o.slowdown ? Number(o.slowdown) : DEFAULT_SLOWDOWN, echo: (l) => console.log(l) });
fs.mkdirSync(".sim", { recursive: true });
if (!d.flash.files.has(".boot0")) d.install(loadBundle());
d.boot();
setInterval(() => d.run(100), 100); // device time follows wall time
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
