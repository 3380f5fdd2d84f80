import assert from "node:assert/strict";
import fs from "node:fs";
import { SimDevice, DeviceOptions, loadBundle } from "../sim/device";
import { bleTransport, simCentral, Era } from "../client/transport";
import { provision, ProvOptions } from "../client/esp-prov";
import { DEFAULT_WORLD } from "../sim/wifi";

export const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const WORLD = DEFAULT_WORLD;

/** Waits (real time, polling every 50 ms) until cond() holds, then asserts it: `what` names what did not happen. */
export async function until(cond: () => boolean, what: string, ms = 10_000) {
  for (let t = 0; t < ms && !cond(); t += 50) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cond(), what);
}

/**
 * Functional scenarios run with a small interpreter slow-down (×100): they test behaviour, not timing.
 * Timing is tested separately with the default factor (espruino-2v29 table test, npm run bench).
 */
/** The BLE build (test-host/configs/ble.sdkconfig), made by npm test next to the default (SoftAP) one. */
export const BLE_BUNDLE = "dist/ble/firmware.js";

export function device(o: DeviceOptions & { bundle?: string } = {}): SimDevice {
  const d = new SimDevice({ world: WORLD, slowdown: 100, ...o });
  d.install(loadBundle(o.bundle || BLE_BUNDLE));
  d.boot();
  d.run(5000);
  return d;
}

/** The PoP the board uses (random per board by default: CONFIG_PROV_POP_MODE), read from its prov API. */
export const boardPop = (d: SimDevice) => String(d.evaluate("prov.pop"));

/** The PoP in a log's QR payload line (a board run as a subprocess). */
export function logPop(log: string): string {
  const m = /QR payload for the provisioning app: (\{.*\})/.exec(log);
  assert.ok(m, "QR payload line logged");
  return JSON.parse(m[1]!).pop;
}

export async function provisionSim(d: SimDevice, o: Partial<ProvOptions> & { era?: Era } = {}) {
  const t = await bleTransport(simCentral(d), { era: o.era });
  try {
    return await provision(t, { ssid: "myssid", passphrase: "mypassword", pop: boardPop(d), sleep: async (ms) => d.run(ms), ...o });
  } finally {
    if (d.ble.connected) await t.close();
  }
}
