/**
 * Example application (TypeScript): once online, logs the station's signal strength every `everyMs`
 * (at once, then periodically); stops while offline. Build it in with `npm run build -- --app
 * src/app/examples/rssi.ts` (or call it from src/app/app.ts). examples/rssi-logger.js is the same program
 * as plain JavaScript for the Espruino Web IDE.
 */
import { Prov } from "../api";
import { print, stationRssi } from "../../platform/espruino/platform";

export function app(prov: Prov, everyMs?: number): void {
  var timer = 0;
  function log() {
    print("[app] RSSI " + stationRssi() + " dBm on " + prov.name);
  }
  prov.on("connected", function (e) {
    print("[app] online at " + e.ip + " (" + e.ssid + ")");
    log();
    if (!timer) timer = setInterval(log, everyMs || 60000);
  });
  prov.on("disconnected", function (e) {
    print("[app] offline (reason " + e.code + ")");
    if (timer) clearInterval(timer);
    timer = 0;
  });
}
