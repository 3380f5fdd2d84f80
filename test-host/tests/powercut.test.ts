// Power cut at every byte of every Storage write the firmware makes (jsflash.c order: old file deleted, header,
// data; sim/storage.ts cutAfter): the PoP-throttle counter (failure and clear) and the Wi-Fi credentials.
// After the cut the next boot reads the old or the new state, never anything else, and never crashes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimFlash, PowerCut, HEADER_BYTES } from "../sim/storage";
import { SimDevice } from "../sim/device";
import { createThrottle } from "../../src/protocomm/throttle";
import { createLogger } from "../../src/core/log";
import { device, provisionSim } from "./helpers";

const quiet = createLogger({ print: () => {}, now: () => 0, level: 0, color: false }, "t");
const kvOf = (flash: SimFlash) => ({
  read: (k: string) => (flash.files.has(k) ? Buffer.from(flash.files.get(k)!).toString("latin1") : undefined),
  write: (k: string, v: string) => flash.writeFile(k, Buffer.from(v, "latin1")),
  erase: (k: string) => void flash.files.delete(k),
});
const MAX_RECORD = 40;

test("PoP-throttle counter: a cut at any byte of a failure or a clear leaves the old or the new count", () => {
  let cases = 0;
  for (const [before, action] of [[0, "fail"], [1, "fail"], [4, "fail"], [5, "clear"]] as const) {
    for (let cut = 0; cut <= 1 + HEADER_BYTES + MAX_RECORD; cut++) {
      const flash = new SimFlash(), kv = kvOf(flash);
      const t = createThrottle(kv, quiet);
      for (let i = 0; i < before; i++) t.failed(0);
      flash.cutAfter(cut);
      try { if (action === "fail") t.failed(0); else t.succeeded(); } catch (e) { assert.ok(e instanceof PowerCut); }
      const n = createThrottle(kv, quiet).failures(); // after the reboot
      const want = action === "fail" ? [before, before + 1] : [before, 0];
      assert.ok(want.includes(n), `${action} from ${before}, cut at ${cut}: read ${n}`);
      cases++;
    }
  }
  assert.ok(cases > 250);
});

/** Powers the board off and on: whatever JS was doing is gone; flash keeps what the cut left. */
function powerCycle(d: SimDevice) {
  d.boot();
  d.run(3000);
  assert.deepEqual(d.lines().filter((l) => /^Uncaught/.test(l)), [], "boot after the cut");
}

test("the firmware boots and provisions after a cut at every byte of its throttle write (wrong PoP session)", async () => {
  for (let cut = 0; cut <= 1 + HEADER_BYTES + 12; cut += 3) {
    const d = device({ slowdown: 0.05 });
    d.run(20000);
    d.flash.cutAfter(cut);
    await provisionSim(d, { pop: "wrong" }).catch(() => undefined);
    powerCycle(d);
    d.run(20000);
    const r = await provisionSim(d);
    assert.equal(r.ok, true, `cut at ${cut}`);
  }
});

test("the firmware boots after a cut at every byte of its credentials write: old (none) or new credentials", async () => {
  let withCreds = 0, without = 0;
  for (let cut = 0; cut <= 1 + HEADER_BYTES + 60; cut += 3) {
    const d = device({ slowdown: 0.05 });
    d.run(20000);
    d.flash.cutAfter(cut);
    await provisionSim(d).catch(() => undefined);
    d.run(2000);
    powerCycle(d);
    if (d.lines().some((l) => /Starting WiFi station/.test(l))) withCreds++;
    else { without++; assert.equal(d.ble.scan()[0]?.name, "PROV_261FCC", `cut at ${cut}: back in provisioning`); }
  }
  assert.ok(withCreds > 0 && without > 0, `both outcomes seen: ${withCreds}/${without}`);
});
