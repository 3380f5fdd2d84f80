import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SimDevice, DeviceOptions, loadBundle } from "../sim/device";
import { bleTransport, simCentral, Era } from "../client/transport";
import { provision, ProvOptions } from "../client/esp-prov";
import { DEFAULT_WORLD } from "../sim/wifi";
import { RsaBlock, RSA_BASE, DPORT_BASE, ChipInfo } from "../sim/rsa";
import { MpiIo } from "../../src/crypto/esp32-rsa";

export const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const WORLD = DEFAULT_WORLD;
const ROOT = path.resolve(import.meta.dirname, "../..");

/** Waits (real time, polling every 50 ms) until cond() holds, then asserts it: `what` names what did not happen. */
export async function until(cond: () => boolean, what: string, ms = 10_000) {
  for (let t = 0; t < ms && !cond(); t += 50) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cond(), what);
}

/**
 * Functional scenarios run the interpreter about 30× faster than the board (--slowdown 0.05): they test behaviour, not timing.
 * Timing is tested separately with the default factor (espruino-2v29 table test, npm run bench).
 */
/**
 * The builds npm test makes from its own configs (npm run build:tests), never from the user's sdkconfig:
 * the SoftAP build (test-host/configs/softap.sdkconfig: the shipped defaults, Security 1, PoP abcd1234)
 * and the BLE build (test-host/configs/ble.sdkconfig).
 */
export const SOFTAP_BUNDLE = "dist/softap/firmware.js";
export const BLE_BUNDLE = "dist/ble/firmware.js";

export function device(o: DeviceOptions & { bundle?: string } = {}): SimDevice {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05, ...o });
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

/**
 * A copy of the repository in a temporary directory (sources, tools, configs; node_modules linked, no dist/),
 * whose root sdkconfig a test may change as a user would, without touching this clone's. `sdkconfig` is the
 * text of its sdkconfig (default: the tests' SoftAP config).
 */
export function scratchRepo(sdkconfig = fs.readFileSync(path.join(ROOT, "test-host/configs/softap.sdkconfig"), "utf8")): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "repo-"));
  const skip = new Set(["node_modules", "dist", ".git", ".sim"]);
  for (const e of fs.readdirSync(ROOT)) if (!skip.has(e)) fs.cpSync(path.join(ROOT, e), path.join(dir, e), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  fs.writeFileSync(path.join(dir, "sdkconfig"), sdkconfig);
  return dir;
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

