// npm run prov never reports what did not happen: every reply must be the reply to what was sent (message type,
// payload, status), a reply that is the request itself is named (stock Espruino's early BLE write ack), an
// unreachable board fails after a connect timeout with the hint that matters, a PoP lock-out says so with the
// time left, and without --ssid prov lists the networks the device scans as esp_prov does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { encode, decode } from "../../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload, WiFiConfigPayload } from "../../src/proto/schema.gen";
import { EchoedRequest, provision, ProvError, WrongReply } from "../client/esp-prov";
import { Transport } from "../client/transport";
import { flashWith, node, oneLine, sim, tmp } from "./cli-harness";
import { BLE_BUNDLE, device, provisionSim, SOFTAP_BUNDLE, until } from "./helpers";

/** npm run prov over the simulator's virtual BLE central. */
const provBle = (port: number, ...args: string[]) => node("test-host/client/prov-cli.ts", "--transport", "ble", "--port", String(port), "--poll_interval", "0.2", ...args);
/** npm run prov over SoftAP/HTTP to 127.0.0.1:port. */
const provAp = (port: number, ...args: string[]) => node("test-host/client/prov-cli.ts", "--service_name", `127.0.0.1:${port}`, "--poll_interval", "0.2", ...args);

test("prov over BLE against stock Espruino 2v29 (--gatt espruino-2v29, Security 1 BLE build): no false success, the echoed request is named", { timeout: 120_000 }, async () => {
  const s = await sim(["--flash", flashWith(BLE_BUNDLE), "--gatt", "espruino-2v29"]);
  try {
    await until(() => /Device key pair ready/.test(s.out()), "key pair ready", 60_000);
    // The issue's command: it printed "Provisioning was successful" and exited 0 while the board got nothing.
    for (const extra of [["--sec_ver", "0"], ["--sec_ver", "1", "--pop", "abcd1234"], []]) {
      const r = await provBle(s.port, ...extra, "--ssid", "myssid", "--passphrase", "mypassword");
      assert.equal(r.code, 1, `${extra.join(" ")}: ${r.out}${r.err}`);
      assert.doesNotMatch(r.out, /Provisioning was successful/);
      oneLine(r, /^prov: the board acknowledges BLE writes before the firmware runs \(stock Espruino\), so reading (proto-ver|prov-session|prov-config) returned the request just written, not the device's reply: use SoftAP/);
    }
    // What the firmware logs once a session is up and when credentials arrive (app_prov_handler).
    assert.doesNotMatch(s.out(), /Secure session established|WiFi Credentials Received/, "the board never had a session nor credentials");
  } finally {
    s.stop();
  }
});

/**
 * A Security 0 device in this process whose prov-config replies a test may replace: `reply(request)` returns
 * the bytes to answer (undefined: the honest reply).
 */
function sec0Device(reply: (req: WiFiConfigPayload, raw: Uint8Array) => Uint8Array | undefined = () => undefined): Transport {
  const honest = (m: WiFiConfigPayload): WiFiConfigPayload =>
    m.msg === 2 ? { msg: 3, resp_set_config: { status: 0 } }
      : m.msg === 4 ? { msg: 5, resp_apply_config: { status: 0 } }
      : { msg: 1, resp_get_status: { status: 0, sta_state: 0, connected: { ip4_addr: "192.168.1.42" } } };
  return {
    async exchange(ep, data) {
      if (ep === "proto-ver") return Buffer.from(JSON.stringify({ prov: { ver: "v1.1", sec_ver: 0, cap: ["no_sec", "wifi_scan"] } }));
      if (ep === "prov-session") return encode(D_SessionData, { sec_ver: 0, sec0: { msg: 1, sr: { status: 0 } } });
      const m = decode(D_WiFiConfigPayload, data);
      return reply(m, data) ?? encode(D_WiFiConfigPayload, honest(m));
    },
    async close() {},
  };
}
const provisionWith = (t: Transport) => provision(t, { ssid: "myssid", passphrase: "mypassword", sleep: async () => {} });

test("client: a reply of another type, without its payload, undecodable or the request itself is no result", async () => {
  assert.equal((await provisionWith(sec0Device())).ok, true, "the honest device provisions");
  const cases: [string, (m: WiFiConfigPayload, raw: Uint8Array) => Uint8Array | undefined, (e: unknown) => boolean][] = [
    ["echo of GetStatus (all defaults: 'Connected')", (m, raw) => ((m.msg || 0) === 0 ? raw : undefined), (e) => e instanceof EchoedRequest && e.endpoint === "prov-config"],
    ["echo of SetConfig", (m, raw) => (m.msg === 2 ? raw : undefined), (e) => e instanceof EchoedRequest],
    ["GetStatus answered with a SetConfig response", (m) => ((m.msg || 0) === 0 ? encode(D_WiFiConfigPayload, { msg: 3, resp_set_config: { status: 0 } }) : undefined),
      (e) => e instanceof WrongReply && /GetStatus: the reply is message type 3\b.*, not the response type 1/.test((e as Error).message)],
    ["GetStatus response type without its payload", (m) => ((m.msg || 0) === 0 ? encode(D_WiFiConfigPayload, { msg: 1 }) : undefined),
      (e) => e instanceof WrongReply && /without its payload/.test((e as Error).message)],
    ["ApplyConfig answered with bytes that are no message", (m) => (m.msg === 4 ? Buffer.from("none") : undefined),
      (e) => e instanceof WrongReply && /ApplyConfig: the reply does not decode/.test((e as Error).message)],
    ["GetStatus with status InternalError", (m) => ((m.msg || 0) === 0 ? encode(D_WiFiConfigPayload, { msg: 1, resp_get_status: { status: 5 } }) : undefined),
      (e) => e instanceof ProvError && /GetStatus failed with status 5 \(InternalError\)/.test((e as Error).message)],
  ];
  for (const [what, reply, check] of cases) await assert.rejects(provisionWith(sec0Device(reply)), check, what);
  // The session reply too: an echoed SessionCmd0 and a Security 0 reply with an error status.
  const session = (answer: (req: Uint8Array) => Uint8Array): Transport => {
    const t = sec0Device();
    return { ...t, exchange: async (ep, data) => (ep === "prov-session" ? answer(data) : t.exchange(ep, data)) };
  };
  await assert.rejects(provisionWith(session((req) => req)), (e) => e instanceof EchoedRequest && e.endpoint === "prov-session");
  await assert.rejects(provisionWith(session(() => encode(D_SessionData, { sec_ver: 0, sec0: { msg: 1, sr: { status: 7 } } }))), /SessionCmd0 failed with status 7 \(InvalidSession\)/);
});

test("prov: an unreachable board fails after the connect timeout with the hint to join its PROV_ network", { timeout: 60_000 }, async () => {
  // A listener on loopback whose process never accepts (its event loop blocked, backlog 1): once its queue is full
  // the kernel drops further SYNs, so a connect hangs as to a host that is not there (no traffic leaves loopback).
  const blocked = spawn(process.execPath, ["-e", `const s=require("net").createServer().listen({port:0,host:"127.0.0.1",backlog:1},()=>{
    console.log(s.address().port);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})`]);
  try {
    const port = Number(await new Promise<string>((res) => blocked.stdout.once("data", (d) => res(String(d).trim()))));
    const net = await import("node:net");
    // Fill the accept queue: these handshakes complete in the kernel; connects after them hang.
    const fillers = Array.from({ length: 4 }, () => net.connect(port, "127.0.0.1").on("error", () => {}));
    try {
      const r = await provAp(port, "--pop", "abcd1234", "--ssid", "myssid", "--passphrase", "mypassword");
      assert.equal(r.code, 1, r.out + r.err);
      oneLine(r, new RegExp(`^prov: no connection to 127\\.0\\.0\\.1:${port} within 5 s: this computer is probably not joined to the board's PROV_xxxxxx access point`));
      assert.ok(r.ms < 30_000, `gave up after ${r.ms} ms, not esp_prov's 60 s`);
    } finally {
      for (const f of fillers) f.destroy();
    }
  } finally {
    blocked.kill("SIGKILL");
  }
});

test("prov over SoftAP: without --ssid it lists the scanned networks as esp_prov; a PoP lock-out is named with its time left", { timeout: 180_000 }, async () => {
  const s = await sim(["--flash", flashWith(SOFTAP_BUNDLE)]);
  try {
    await until(() => /SoftAP started/.test(s.out()), "AP up", 30_000);
    let r = await provAp(s.httpPort, "--pop", "abcd1234");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /==== Wi-Fi Scan results ====\nS\.N\. SSID {30}BSSID {9}CHN RSSI AUTH/);
    assert.match(r.out, /^\[ 1\] myssid {27} [0-9a-f]{12} +\d+ -\d+ +WPA2_PSK/m);
    assert.match(s.out(), /Secure session established/);
    // Wrong PoPs until the device locks sessions out: the first FREE_FAILURES are free, then each lock doubles, so
    // however long each prov run takes, one soon lands inside a lock-out.
    let locked: typeof r | undefined;
    for (let i = 0; i < 8 && !locked; i++) {
      r = await provAp(s.httpPort, "--pop", "wrong", "--ssid", "myssid", "--passphrase", "mypassword");
      assert.equal(r.code, 1);
      if (/locks out/.test(r.err)) locked = r;
      else oneLine(r, /^prov: wrong proof of possession/);
    }
    assert.ok(locked, "a lock-out within 8 wrong sessions");
    oneLine(locked, /^prov: the device locks out new sessions after repeated wrong proofs of possession: retry in \d+ s with the right --pop .*or power-cycle the board/);
  } finally {
    s.stop();
  }
});

test("prov over BLE (a patched Espruino, --gatt deferred-write): the PoP lock-out, a dropped link at SessionCmd0, is named", { timeout: 180_000 }, async () => {
  const s = await sim(["--flash", flashWith(BLE_BUNDLE), "--gatt", "deferred-write"]);
  try {
    await until(() => /Device key pair ready/.test(s.out()), "key pair ready", 60_000);
    let locked: Awaited<ReturnType<typeof provBle>> | undefined;
    for (let i = 0; i < 8 && !locked; i++) {
      const r = await provBle(s.port, "--pop", "wrong", "--ssid", "myssid", "--passphrase", "mypassword");
      assert.equal(r.code, 1);
      if (/dropped the link at SessionCmd0/.test(r.err)) locked = r;
      else oneLine(r, /^prov: wrong proof of possession/);
    }
    assert.ok(locked, "a lock-out within 8 wrong sessions");
    oneLine(locked, /^prov: the device dropped the link at SessionCmd0: after repeated wrong proofs of possession it refuses new sessions/);
    assert.match(s.out(), /session refused for \d+ s/);
  } finally {
    s.stop();
  }
});

test("stock 2v29 GATT semantics lose the race for a Security 1 BLE build even with no interpreter slow-down: SessionCmd0 is read back", async () => {
  // --slowdown 0 bills no host time, so this does not depend on the host's speed; each JS event still costs the
  // simulator's fixed dispatch time (DEFAULT_EVENT_MS), and the reply to SessionCmd0 is not stored before the client's
  // read, one connection interval after the write was acknowledged.
  const d = device({ gatt: "espruino-2v29", slowdown: 0 });
  d.waitFor(/Device key pair ready/, 60_000);
  await assert.rejects(provisionSim(d), (e) => e instanceof EchoedRequest && e.endpoint === "prov-session");
  assert.ok(!d.lines().some((l) => /Secure session established/.test(l)));
});
