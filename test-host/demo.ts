/**
 * npm start: boots dist/firmware.js (the default build: SoftAP, Security 1, the board's PoP, the path a stock
 * Espruino 2v29 board can use) in the simulator at its default timing, provisions it over HTTP with the
 * project's esp_prov-like client (`esp_prov.py --transport softap`), lets the auto-stop delay stop the AP,
 * and prints the board's serial log, its QR code, the client's milestones and each reply's wait.
 */
import { SimDevice, loadBundle } from "./sim/device";
import { httpTransport, simHttpSend } from "./client/http-transport";
import { provision } from "./client/esp-prov";
import { DEFAULT_WORLD } from "./sim/wifi";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { qrBlock, qrPayload } from "../tools/qr.mjs";

const HELP = `usage: npm start   (builds first)
Boots dist/firmware.js (SoftAP, Security 1, the PoP the board logs) on a simulated ESP32 at its calibrated timing,
joins its access point and provisions it over HTTP with the esp_prov-like client (network myssid /
mypassword), and prints the board's serial log, its QR code, the client's milestones and how long each reply
took. Exit 0 when the board ends up connected. Takes no arguments; for a long-running simulator see
npm run sim -- --help.`;
{
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) { console.log(HELP); process.exit(0); }
  if (args.length) { console.error(`start: unknown argument '${args[0]}' (npm start -- --help)`); process.exit(2); }
}

console.log(`--- simulated ESP32, Espruino 2v29, interpreter slow-down x${DEFAULT_SLOWDOWN} (calibrated default) ---`);
// The payload line is followed by its QR code, as ESP-IDF's example prints it (tools/qr.mjs).
const color = !!process.stdout.isTTY && process.env.NO_COLOR === undefined;
const echo = (l: string) => { console.log(l); const qr = qrBlock(l, { color }); if (qr) console.log(qr.join("\n")); };
const d = new SimDevice({ world: DEFAULT_WORLD, echo });
d.install(loadBundle());
d.boot();
if (!d.waitFor(/SoftAP started/, 120000)) { console.error("start: the simulated board's access point did not come up (see its log above)"); process.exit(1); }
// The PoP as the phone gets it: from the QR payload the board logged (each board draws its own by default).
const payload = d.lines().map((l) => qrPayload(l) as string | undefined).find(Boolean);
const pop: string = payload ? JSON.parse(payload).pop ?? "" : "";
console.log(`        [phone] joins Wi-Fi network PROV_261FCC (open), then runs: esp_prov.py --transport softap --service_name 192.168.4.1:80 --sec_ver 1 --pop ${pop} --ssid myssid --passphrase mypassword`);
const http = httpTransport(simHttpSend(d));
const t = {
  async exchange(ep: string, data: Uint8Array) {
    const t0 = d.sched.now;
    const x = await http.exchange(ep, data);
    console.log(`        [esp_prov] POST /${ep}: ${data.length} B → ${x.length} B after ${((d.sched.now - t0) / 1000).toFixed(1)} s`);
    return x;
  },
  close: http.close,
};
let r;
try {
  r = await provision(t, { pop, ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms), print: (l) => console.log("        [esp_prov] " + l) });
} catch (e) {
  console.error(`start: provisioning failed: ${(e as Error).message}`);
  process.exit(1);
}
d.run(40000);
console.log(r.ok ? "--- provisioned; the access point stopped, the board stays on myssid ---" : "--- provisioning failed ---");
process.exit(r.ok ? 0 : 1);
