import assert from "node:assert/strict";
import fs from "node:fs";
import { SimDevice, DeviceOptions, loadBundle } from "../sim/device";
import { bleTransport, simCentral, Era } from "../client/transport";
import { provision, ProvOptions } from "../client/esp-prov";
import { DEFAULT_WORLD } from "../sim/wifi";
import { RsaBlock, RSA_BASE, DPORT_BASE, ChipInfo } from "../sim/rsa";
import { MpiIo } from "../../src/crypto/esp32-rsa";

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

export async function provisionSim(d: SimDevice, o: Partial<ProvOptions> & { era?: Era } = {}) {
  const t = await bleTransport(simCentral(d), { era: o.era });
  try {
    return await provision(t, { ssid: "myssid", passphrase: "mypassword", pop: "abcd1234", sleep: async (ms) => d.run(ms), ...o });
  } finally {
    if (d.ble.connected) await t.close();
  }
}

/** peek32/poke32/getTime on a bare RSA block model (its own clock), as the simulator wires them. */
export function rsaBench(fault: RsaBlock["fault"] = "none", chip?: ChipInfo) {
  const blk = new RsaBlock(chip);
  blk.fault = fault;
  const io: MpiIo = {
    rsa: RSA_BASE, dport: DPORT_BASE, now: () => blk.now() / 1000,
    peek: (a, n) => {
      if (!n || n <= 1) return blk.read(a);
      const o = new Uint32Array(n);
      for (let i = 0; i < n; i++) o[i] = blk.read(a + 4 * i);
      return o;
    },
    poke: (a, v) => {
      if (typeof v === "number") blk.write(a, v);
      else for (let i = 0; i < v.length; i++) blk.write(a + 4 * i, v[i]!);
    },
  };
  return { blk, io };
}

