// Security 2 through the simulator: the very bundle a Security 2 build flashes, its SRP6a on the simulated RSA
// block, provisioned by the esp_prov-like client (SRP6a from RFC 5054 in BigInt, AES-GCM from node:crypto)
// over SoftAP/HTTP and over BLE (deferred-write GATT), the iOS-like client at the default slow-down, and what
// refuses Security 2: a board without the accelerator (at build time), a chip revision on which the block is not
// used (at run time).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "../../tools/build.mjs";
import { SimDevice, loadBundle } from "../sim/device";
import { httpTransport, simHttpSend, HttpClientStyle } from "../client/http-transport";
import { provision, ProvOptions, startSession } from "../client/esp-prov";
import { bleTransport, simCentral } from "../client/transport";
import { WORLD } from "./helpers";

const SEC2_BUNDLE = "dist/sec2/firmware.js", SEC2_BLE_BUNDLE = "dist/sec2ble/firmware.js";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sec2-"));
let RANDOM = "";
before(async () => {
  const cfg = path.join(tmp, "random.sdkconfig");
  fs.writeFileSync(cfg, 'CONFIG_PROV_TRANSPORT="softap"\nCONFIG_PROV_SECURITY_VERSION=2\nCONFIG_PROV_POP_MODE="random"\n');
  RANDOM = path.join(tmp, "random.js");
  await build({ board: "esp32", config: cfg, out: RANDOM });
});

function apDevice(bundle = SEC2_BUNDLE, o: { slowdown?: number; chip?: { rev: 0 | 1 | 2 | 3 } } = {}) {
  const d = new SimDevice({ world: WORLD, slowdown: o.slowdown ?? 0.05, chip: o.chip });
  d.install(loadBundle(bundle));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000), d.lines().join("\n"));
  return d;
}
const http = (d: SimDevice, style: HttpClientStyle = "esp_prov") => httpTransport(simHttpSend(d), { style });
const sec2 = (o: Partial<ProvOptions> = {}) => ({ secVer: 2 as const, sec2User: "wifiprov", sec2Pwd: "abcd1234", ...o });
const noUncaught = (d: SimDevice) => assert.deepEqual(d.lines().filter((l) => /Uncaught/.test(l)), []);

test("Security 2 over SoftAP as esp_prov: proto-ver sec_ver 2 / sec_patch_ver 1, QR with username and no built-in password, Connected", async () => {
  const d = apDevice();
  assert.ok(d.lines().some((l) => l.includes('QR payload for the provisioning app: {"ver":"v1","name":"PROV_261FCC","username":"wifiprov","transport":"softap","security":2}')), d.lines().join("\n"));
  const t = http(d);
  const ver = Buffer.from(await t.exchange("proto-ver", Buffer.from("---"))).toString();
  assert.equal(ver, '{\n\t"prov":\t{\n\t\t"ver":\t"v1.1",\n\t\t"sec_ver":\t2,\n\t\t"sec_patch_ver":\t1,\n\t\t"cap":\t["wifi_scan"]\n\t}\n}');
  const r = await provision(t, { ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms), scan: {}, customData: "hi", ...sec2() });
  assert.equal(r.ok, true);
  assert.equal(r.customReply, "SUCCESS");
  assert.ok(d.lines().some((l) => /I \(\d+\) security2: Secure session established/.test(l)));
  noUncaught(d);
});

test("Security 2: a wrong password and a wrong username are refused at SessionCmd1 and counted by the PoP brake; the right one then works", async () => {
  const d = apDevice();
  await assert.rejects(startSession(http(d), sec2({ sec2Pwd: "wrong" })));
  await assert.rejects(startSession(http(d), sec2({ sec2User: "admin" })));
  assert.equal(d.lines().filter((l) => /E \(\d+\) security2: Failed to authenticate client proof/.test(l)).length, 2, d.lines().join("\n"));
  const rec = (k: string) => Buffer.from(d.flash.files.get(k) ?? []).toString();
  assert.match(rec("prov.popfail.a") + rec("prov.popfail.b"), /^\d+,2,/m, "two failures on record (the throttle's flash record)");
  const s = await startSession(http(d), sec2());
  assert.equal(Buffer.from(await s.call("custom-data", Buffer.from("x"))).toString(), "SUCCESS");
  noUncaught(d);
});

test("Security 2 over BLE (deferred-write GATT, MTU 517): a 400-byte SessionCmd0 in one write, Connected", async () => {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05, gatt: "deferred-write" });
  d.install(loadBundle(SEC2_BLE_BUNDLE));
  d.boot();
  assert.ok(d.waitFor(/security2: Device public key ready/, 60000), d.lines().join("\n"));
  const t = await bleTransport(simCentral(d));
  try {
    const r = await provision(t, { ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms), ...sec2() });
    assert.equal(r.ok, true);
    assert.ok(Math.max(...r.transcript.map((x) => x.req.length / 2)) > 390, "SessionCmd0 carries the 384-byte A");
  } finally {
    if (d.ble.connected) await t.close();
  }
  noUncaught(d);
});

test("iOS library at the default slow-down: Security 2 completes with every reply inside its 30 s limit", async () => {
  const d = apDevice(SEC2_BUNDLE, { slowdown: undefined });
  const inner = http(d, "ios"), times: Record<string, number> = {};
  let n = 0;
  const t = {
    exchange: async (ep: string, b: Uint8Array) => {
      const t0 = d.sched.now, x = await inner.exchange(ep, b);
      times[`${n++} ${ep}`] = d.sched.now - t0;
      return x;
    },
    close: inner.close,
  };
  const r = await provision(t, { ssid: "myssid", passphrase: "mypassword", probe: "ESP", sleep: async (ms) => d.run(ms), ...sec2() });
  assert.equal(r.ok, true);
  assert.ok(Math.max(...Object.values(times)) < 30000, JSON.stringify(times));
});

test("random PoP: the board makes its verifier once (salt from the RNG after the radio runs), keeps it, and provisions with its own PoP", async () => {
  const d = apDevice(RANDOM);
  // The first start draws the PoP and reboots to serve it (src/prov/pop.ts); then the verifier is made.
  assert.ok(d.waitFor(/security2: Device public key ready/, 60000), d.lines().join("\n"));
  const pop = String(d.evaluate("prov.pop"));
  assert.match(pop, /^[a-z0-9]{10}$/);
  assert.equal(d.lines().filter((l) => /Security 2 verifier made for this board's PoP and saved/.test(l)).length, 1);
  const qr = d.lines().find((l) => /QR payload for the provisioning app/.test(l))!;
  assert.ok(qr.includes(`"username":"wifiprov","pop":"${pop}"`), qr);
  assert.equal((await provision(http(d), { ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms), ...sec2({ sec2Pwd: pop }) })).ok, true);
});

test("a chip revision on which the RSA block is not used refuses Security 2 sessions with the reason logged", async () => {
  const d = apDevice(SEC2_BUNDLE, { chip: { rev: 1 } });
  d.run(2000);
  assert.ok(d.lines().some((l) => /E \(\d+\) security2: Security 2 sessions refused: ESP32 chip revision 1 with two cores/.test(l)), d.lines().join("\n"));
  await assert.rejects(startSession(http(d), sec2()));
  assert.ok(d.lines().some((l) => /Security 2 unavailable: ESP32 chip revision 1/.test(l)));
  noUncaught(d);
});

test("the build refuses Security 2 on a board without the RSA accelerator, in one line", async () => {
  const cfg = path.join(tmp, "c3.sdkconfig");
  fs.writeFileSync(cfg, "CONFIG_PROV_SECURITY_VERSION=2\n");
  await assert.rejects(build({ board: "esp32c3", config: cfg, out: path.join(tmp, "c3.js") }),
    /^Error: Security 2 needs the classic ESP32's RSA accelerator, which boards\/esp32c3\.json has not: use CONFIG_PROV_SECURITY_VERSION=1 on this board$/);
});
