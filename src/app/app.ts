/**
 * Your application, bundled with the firmware into .boot0: `app(prov)` runs once at every boot, before the
 * firmware connects or provisions, so it hears every event. The same `prov` is `global.prov` for code saved
 * from the Espruino Web IDE (.bootcde). Events and fields: ./api.ts. Example: ./examples/rssi.ts.
 *
 * Empty by default: code here stays resident in RAM (about 5 JsVars per function).
 */
import { Prov } from "./api";

export function app(_prov: Prov): void {
  // e.g. rssiLogger(_prov, 60000);  (import { rssiLogger } from "./examples/rssi")
}
