/** npm run prov -- [--port N] [--sec_ver 0|1] [--pop POP] --ssid S --passphrase P   (against npm run sim -- --gatt-port N) */
import { bleTransport, tcpCentral } from "./transport";
import { provision } from "./esp-prov";

const a = process.argv.slice(2), o: Record<string, string> = {};
for (let i = 0; i < a.length; i += 2) o[a[i]!.replace(/^--/, "")] = a[i + 1]!;
if (!o.ssid) { console.error("usage: npm run prov -- [--port 8765] [--sec_ver 0|1] [--pop POP] --ssid SSID --passphrase PASS"); process.exit(2); }
const t = await bleTransport(tcpCentral(Number(o.port || 8765)));
const r = await provision(t, { secVer: o.sec_ver === undefined ? undefined : (Number(o.sec_ver) as 0 | 1), pop: o.pop, ssid: o.ssid, passphrase: o.passphrase || "",
  sleep: (ms) => new Promise((res) => setTimeout(res, ms)), print: console.log });
await t.close();
process.exit(r.ok ? 0 : 0); // like esp_prov: 0 even when Wi-Fi fails
