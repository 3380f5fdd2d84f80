// The simulated device's timeline is a function of the firmware's work, not of the host: the same `npm start`
// session (boot, then an esp_prov-like client, Security 1 over the SoftAP) gives the same device timestamps and
// reply times bit for bit, on an idle host and with both cores kept busy by other processes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { SimDevice, loadBundle } from "../sim/device";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { provision } from "../client/esp-prov";
import { WORLD, SOFTAP_BUNDLE, boardPop } from "./helpers";

/** One session at the default cost model: every log line with its device time, every reply's device wait. */
async function session() {
  const d = new SimDevice({ world: WORLD }); // the default slow-down: the board's timing
  d.install(loadBundle(SOFTAP_BUNDLE));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at/, 120000), "the access point came up");
  d.run(30000); // the device key pair
  const http = httpTransport(simHttpSend(d)), waits: string[] = [];
  const r = await provision({
    exchange: async (ep, data) => { const t0 = d.sched.now; const x = await http.exchange(ep, data); waits.push(`${ep} ${d.sched.now - t0}`); return x; },
    close: http.close,
  }, { ssid: "myssid", passphrase: "mypassword", pop: boardPop(d), sleep: async (ms) => d.run(ms) });
  d.run(10000);
  return { ok: r.ok, log: d.log.map((l) => `${l.t} ${l.line}`), waits, instructions: d.sched.jsInstructions };
}

test("same session, same device timeline bit for bit, on an idle host and on one whose cores are busy", async () => {
  const idle = await session();
  assert.equal(idle.ok, true, "provisioned");
  assert.ok(idle.waits.length >= 6, "every exchange timed");
  // Both cores kept busy by other processes for the whole second run.
  const burners = [0, 1].map(() => spawn(process.execPath, ["-e", "for(;;);"], { stdio: "ignore" }));
  let busy;
  try {
    await new Promise((r) => setTimeout(r, 300)); // the burners are running
    busy = await session();
  } finally {
    for (const b of burners) b.kill("SIGKILL");
  }
  assert.deepEqual(busy.waits, idle.waits, "every reply's device time");
  assert.deepEqual(busy.log, idle.log, "every device timestamp in the serial log");
  assert.equal(busy.instructions, idle.instructions);
});
