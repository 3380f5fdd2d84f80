/**
 * npm start: boots dist/firmware.js (the default build: SoftAP, Security 1, PoP abcd1234, the path a stock
 * Espruino 2v29 board can use) in the simulator at its default timing, provisions it over HTTP with the
 * project's esp_prov-like client (`esp_prov.py --transport softap`), lets the auto-stop delay stop the AP,
 * and prints the board's serial log with the client's milestones and each reply's wait interleaved.
 */
import { SimDevice, loadBundle } from "./sim/device";
import { httpTransport, simHttpSend } from "./client/http-transport";
import { provision } from "./client/esp-prov";
import { DEFAULT_WORLD } from "./sim/wifi";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";

console.log(`--- simulated ESP32, Espruino 2v29, interpreter slow-down x${DEFAULT_SLOWDOWN} (calibrated default) ---`);
const d = new SimDevice({ world: DEFAULT_WORLD, echo: (l) => console.log(l) });
d.install(loadBundle());
d.boot();
if (!d.waitFor(/SoftAP started/, 60000)) { console.log("--- the access point did not come up ---"); process.exit(1); }
console.log("        [phone] joins Wi-Fi network PROV_261FCC (open), then runs: esp_prov.py --transport softap --service_name 192.168.4.1:80 --sec_ver 1 --pop abcd1234 --ssid myssid --passphrase mypassword");
const http = httpTransport(simHttpSend(d));
const t = {
  async exchange(ep: string, data: Uint8Array) {
    const t0 = d.sched.now;
    const r = await http.exchange(ep, data);
    console.log(`        [esp_prov] POST /${ep}: ${data.length} B → ${r.length} B after ${((d.sched.now - t0) / 1000).toFixed(1)} s`);
    return r;
  },
  close: http.close,
};
const r = await provision(t, { pop: "abcd1234", ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms), print: (l) => console.log("        [esp_prov] " + l) });
d.run(40000);
console.log(r.ok ? "--- provisioned; the access point stopped, the board stays on myssid ---" : "--- provisioning failed ---");
process.exit(r.ok ? 0 : 1);
