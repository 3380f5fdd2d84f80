// SoftAP/HTTP provisioning through the shipped bundle in the simulator: the path a stock Espruino 2v29
// board can use. Clients behave as esp_prov (transport_http.py), the Android and the iOS libraries.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "../../tools/build.mjs";
import { SimDevice, loadBundle } from "../sim/device";
import { DEFAULT_BOARD } from "../sim/device";
import { parseResponse } from "../sim/http";
import { DEFAULT_SLOWDOWN } from "../sim/scheduler";
import { CookieJar, httpTransport, HttpClientStyle, simHttpSend } from "../client/http-transport";
import { ctrl, provision, ProvOptions, startSession } from "../client/esp-prov";
import { bleTransport, simCentral } from "../client/transport";
import { decode, encode } from "../../src/proto/codec";
import { D_SessionData } from "../../src/proto/schema.gen";
import { WORLD, SOFTAP_BUNDLE, boardPop } from "./helpers";
import { SLOTS } from "../../src/prov/credentials";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "softap-"));
const B = { sec0: "", both: "", c3: "", pass: "", fixed: "" };
before(async () => {
  const configs: [keyof typeof B, string, string][] = [
    ["sec0", "esp32", "CONFIG_PROV_SECURITY_VERSION=0\n"],
    ["both", "esp32", 'CONFIG_PROV_TRANSPORT="both"\nCONFIG_PROV_BLE_MTU=517\n'],
    ["c3", "esp32c3", "CONFIG_PROV_SECURITY_VERSION=0\n"],
    ["pass", "esp32", 'CONFIG_PROV_SECURITY_VERSION=0\nCONFIG_PROV_SOFTAP_PASSWORD="provpass1"\n'],
    ["fixed", "esp32", 'CONFIG_PROV_SECURITY_VERSION=0\nCONFIG_PROV_VERSION_STYLE="fixed"\n'],
  ];
  for (const [k, board, text] of configs) {
    const cfg = path.join(tmp, k + ".sdkconfig");
    fs.writeFileSync(cfg, text);
    B[k] = path.join(tmp, k + ".js");
    await build({ board, config: cfg, out: B[k] });
  }
});

const WRONG_PASS_WORLD = { aps: [...WORLD.aps] };

/** Boots a bundle (default: the tests' SoftAP build) until its AP is up; BLE is turned off first (one reboot). */
function apDevice(bundle = SOFTAP_BUNDLE, o: { board?: typeof DEFAULT_BOARD; slowdown?: number } = {}) {
  const d = new SimDevice({ world: WORLD, slowdown: o.slowdown ?? 0.05, board: o.board });
  d.install(loadBundle(bundle));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000), d.lines().join("\n"));
  return d;
}

function client(d: SimDevice, style: HttpClientStyle = "esp_prov", jar?: CookieJar) {
  return httpTransport(simHttpSend(d), { style, jar });
}

const prov = (d: SimDevice, o: Partial<ProvOptions> & { style?: HttpClientStyle; jar?: CookieJar } = {}) =>
  provision(client(d, o.style, o.jar), { ssid: "myssid", passphrase: "mypassword", pop: boardPop(d), sleep: async (ms) => d.run(ms), ...o });

/** One raw request on a new connection; the device's whole answer (undefined when it closed without one). */
function raw(d: SimDevice, text: string | Buffer, ms = 10000) {
  const s = d.http.connect(80);
  s.write(text);
  d.sched.runWhile(() => s.closedByDevice, ms);
  return { sock: s, reply: parseResponse(s.received) };
}
const post = (ep: string, body: Buffer, extra = "") =>
  Buffer.concat([Buffer.from(`POST /${ep} HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: ${body.length}\r\n${extra}\r\n`), body]);

const noUncaught = (d: SimDevice) => assert.deepEqual(d.lines().filter((l) => /Uncaught/.test(l)), []);

test("security 1 over HTTP as esp_prov: scan list, custom data, Connected; AP and server stop after the auto-stop delay, no reboot", async () => {
  const d = apDevice();
  assert.equal(d.nvs.ble, false, "a SoftAP-only build runs with BLE off");
  assert.ok(d.lines().some((l) => /app: SoftAP provisioning: turning BLE off to free its memory \(one reboot\)/.test(l)));
  assert.deepEqual(d.wifi.apStarts.map((a) => [a.ssid, a.authMode]), [["PROV_261FCC", "open"]]);
  assert.equal(boardPop(d), "abcd1234", "the tests' SoftAP build names its PoP (fixed mode; the random PoP: app.test.ts)");
  assert.ok(d.lines().some((l) => l.includes(`QR payload for the provisioning app: {"ver":"v1","name":"PROV_261FCC","pop":"${boardPop(d)}","transport":"softap","security":1}`)));
  const r = await prov(d, { scan: {}, customData: "hello device" });
  assert.equal(r.ok, true);
  assert.equal(r.ip, "192.168.43.220");
  assert.deepEqual(r.networks, [{ ssid: "myssid", channel: 6, rssi: -50, bssid: "112233445566", auth: 3 }]);
  assert.equal(r.customReply, "SUCCESS");
  assert.ok(d.lines().some((l) => /app_custom: Received data: hello device/.test(l)));
  // The device key was drawn once Wi-Fi ran (SoftAP up), never from the RNG with no radio on (docs/esp32-rsa-block.md §7).
  assert.ok(d.rngReads >= 12);
  assert.equal(d.rngReadsRadioOff, 0, "no RNG read before a radio ran");
  const boots = d.boots;
  assert.ok(d.waitFor(/app_prov: Provisioning stopped/, 40000));
  d.run(1000);
  assert.equal(d.wifi.ap, undefined, "AP stopped");
  assert.equal(d.http.servers.size, 0, "HTTP server closed");
  assert.equal(d.boots, boots, "no reboot after SoftAP-only provisioning");
  assert.equal(d.wifi.status.station, "connected");
  assert.ok(SLOTS.some((k) => d.flash.files.has(k)), "credentials saved");
  // Next boot: straight to station mode, no AP.
  d.scheduleReboot();
  assert.ok(d.waitFor(/app: Starting WiFi station/, 5000));
  d.run(5000);
  assert.equal(d.wifi.ap, undefined);
  noUncaught(d);
});

test("security 0 over HTTP; Set-Cookie only on a new session's first reply, cookies echoed by the client", async () => {
  const d = apDevice(B.sec0);
  const seen: string[] = [];
  const send = simHttpSend(d);
  const t = httpTransport(async (req, ms) => { seen.push(req.toString("latin1")); const b = await send(req, ms); seen.push(b.toString("latin1")); return b; });
  const r = await provision(t, { ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms) });
  assert.equal(r.ok, true);
  const replies = seen.filter((_, i) => i % 2 === 1), requests = seen.filter((_, i) => i % 2 === 0);
  const setCookies = replies.map((x) => /Set-Cookie: (session=\d+)/.exec(x)?.[1]);
  // proto-ver is answered outside any session; prov-session opens it and sets the cookie once.
  assert.equal(setCookies[0], undefined);
  assert.ok(setCookies[1]);
  assert.deepEqual(setCookies.slice(2).filter(Boolean), []);
  for (const q of requests.slice(2)) assert.ok(q.includes(`Cookie: ${setCookies[1]}`));
  for (const x of replies) {
    assert.match(x, /^HTTP\/1\.1 200 OK\r\nServer: Espruino 2v29\r\nConnection: close\r\n/);
    const p = parseResponse(Buffer.from(x, "latin1"))!;
    assert.equal(Number(p.headers["content-length"]), p.body.length, "explicit Content-Length (Espruino adds none)");
  }
});

test("wrong passphrase → ConnectionFailed; prov-ctrl reset → new credentials → Connected; reset refused when nothing failed", async () => {
  const d = apDevice(B.sec0);
  const jar: CookieJar = {};
  const t = client(d, "esp_prov", jar);
  const bad = await provision(t, { ssid: "myssid", passphrase: "wrongpass", sleep: async (ms) => d.run(ms) });
  assert.equal(bad.ok, false);
  assert.equal(bad.failReason, "Incorrect Password");
  const s = await startSession(t, {});
  assert.equal(await ctrl(s, "reset"), 0);
  assert.ok(d.lines().some((l) => /app_prov_handler: State reset after failure/.test(l)));
  assert.equal(await ctrl(s, "reset"), 5, "InternalError: nothing failed since");
  const good = await provision(t, { ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms) });
  assert.equal(good.ok, true);
  noUncaught(d);
});

test("prov-ctrl reprov after success: saved network forgotten, auto-stop cancelled, new credentials accepted", async () => {
  const d = apDevice(B.sec0);
  assert.equal((await prov(d)).ok, true);
  const t = client(d);
  const s = await startSession(t, {});
  assert.equal(await ctrl(s, "reprov"), 0);
  assert.ok(SLOTS.some((k) => d.flash.files.has(k)) === false, "credentials erased");
  d.run(40000);
  assert.ok(!d.lines().some((l) => /Provisioning stopped/.test(l)), "auto-stop cancelled");
  assert.ok(d.wifi.ap, "AP still up");
  assert.equal((await prov(d)).ok, true);
  noUncaught(d);
});

test("bad HTTP input gets a clear status and loses nothing: method, endpoint, Content-Length, size, handler failure", async () => {
  const d = apDevice(B.sec0);
  const cases: [string | Buffer, number][] = [
    // GET belongs to the web portal (web-portal.test.ts); other methods are refused.
    ["PUT /proto-ver HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405],
    [post("no-such-endpoint", Buffer.from("x")), 404],
    ["POST /proto-ver HTTP/1.1\r\nHost: x\r\n\r\n", 411],
    ["POST /proto-ver HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 411],
    [post("proto-ver", Buffer.alloc(0)), 400],
    [post("prov-session", Buffer.alloc(4097, 1)), 413],
    [post("prov-session", Buffer.from("garbage!")), 500],
  ];
  for (const [req, status] of cases) {
    const { reply } = raw(d, req);
    assert.equal(reply?.status, status, `${String(req).split("\r\n")[0]} → ${status}`);
    assert.equal(reply!.body.length, 0);
  }
  assert.ok(d.lines().some((l) => /E \(\d+\) protocomm_httpd: Request content length should be less than 4kb/.test(l)));
  assert.ok(d.lines().some((l) => /E \(\d+\) protocomm_httpd: Data handler failed/.test(l)));
  // Chunks of at most 536 bytes reassemble: a 4,096-byte custom-data body through an established session.
  const t = client(d);
  const s = await startSession(t, {});
  const big = Buffer.alloc(4096, 0x41);
  assert.equal(Buffer.from(await s.ex("custom-data", big)).toString(), "SUCCESS");
  assert.equal((await prov(d)).ok, true);
  noUncaught(d);
});

test("a client that closes mid-request or never sends its body: the device stays provisionable (each keeps a socket)", async () => {
  const d = apDevice(B.sec0);
  const half = d.http.connect(80);
  half.write("POST /prov-session HTTP/1.1\r\nContent-Length: 40\r\n\r\n0123456789");
  d.run(200);
  half.end();
  const silent = d.http.connect(80);
  silent.write("POST /prov-config HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
  d.run(6000);
  const p = parseResponse(silent.received);
  assert.equal(p?.status, 408, "body timeout answered (the socket stays until the client leaves: Espruino cannot close it)");
  assert.equal(silent.closedByDevice, false);
  silent.end();
  assert.equal((await prov(d)).ok, true);
  noUncaught(d);
});

test("a request whose callback keeps the interpreter past the 5 s body deadline: its body, already in the socket, is taken (no 408)", () => {
  const d = apDevice(B.sec0);
  // The request callback takes 6 s of device time (on a host, a garbage collection × the slow-down did): Espruino then
  // runs the due deadline timer before its socket server reads the body (src/jsinteractive.c jsiIdle), as the simulator does.
  const srv = d.http.servers.get(80)!, cb = srv.cb;
  srv.cb = (req, res) => { cb(req, res); d.sched.charge(6000 * (DEFAULT_SLOWDOWN / d.sched.slowdown)); };
  const { reply } = raw(d, post("proto-ver", Buffer.from("---")));
  assert.equal(reply?.status, 200);
  assert.deepEqual(d.lines().filter((l) => /not received/.test(l)), []);
  noUncaught(d);
});

test("HTTP floods and garbage: request lines that are not HTTP, a socket flood up to lwIP's limit, silent clients", async () => {
  const d = apDevice(B.sec0);
  for (const junk of ["HELLO\r\n\r\n", "\x00\x01\x02\r\n\r\n", "POST\r\n\r\n", "POST /prov-session\r\nContent-Length: 2\r\n\r\nab"]) {
    const { reply } = raw(d, junk);
    assert.ok(reply && reply.status >= 400, `${JSON.stringify(junk)} → ${reply?.status}`);
  }
  // Espruino's server sees a connection only once its headers end: clients that never send them hold their
  // sockets (nothing in Espruino's http module can close them), even once they leave: socketserver.c closes a
  // connection only after its response ended and its request arrived whole (CLOSE-WAIT in the Linux build: npm run
  // differential, docs/http.md). The 10th socket is refused: the listening socket and the captive DNS's UDP socket
  // hold two of them.
  assert.equal(d.dgram.open, 1, "the captive DNS's socket");
  const silent = Array.from({ length: 8 }, () => d.http.connect(80)); // + listening + DNS = 10
  assert.throws(() => d.http.connect(80), /lwIP has no free socket/);
  d.run(60000);
  for (const s of silent) s.end();
  d.run(1000);
  assert.throws(() => d.http.connect(80), /lwIP has no free socket/, "their sockets outlive them");
  // A reset frees them.
  d.scheduleReboot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000));
  assert.equal((await prov(d)).ok, true, "provisionable after a reset");
  noUncaught(d);
});

test("a second client mid-handshake: its proto-ver is answered and the session in progress completes", async () => {
  const d = apDevice(); // security 1: SessionCmd1's reply waits for the sliced X25519
  const jar: CookieJar = {};
  const send = simHttpSend(d);
  const a = httpTransport(send, { jar });
  assert.match(Buffer.from(await a.exchange("proto-ver", Buffer.from("none"))).toString(), /"sec_ver":\t1/);
  // Hand-run esp_prov's session so Cmd1 can be left pending.
  const nodeCrypto = await import("node:crypto");
  const k = nodeCrypto.generateKeyPairSync("x25519");
  const pub = new Uint8Array(k.publicKey.export({ format: "der", type: "spki" }).subarray(-32));
  const r0 = decode(D_SessionData, await a.exchange("prov-session", encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: pub } } })));
  const devPub = r0.sec1.sr0.device_pubkey;
  const spki = Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), Buffer.from(devPub)]);
  let key = Buffer.from(nodeCrypto.diffieHellman({ privateKey: k.privateKey, publicKey: nodeCrypto.createPublicKey({ key: spki, format: "der", type: "spki" }) }));
  const h = nodeCrypto.createHash("sha256").update(boardPop(d)).digest();
  key = Buffer.from(key.map((b, i) => b ^ h[i]!));
  const cipher = nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(r0.sec1.sr0.device_random));
  const cmd1 = post("prov-session", Buffer.from(encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: cipher.update(devPub) } } })), `Cookie: ${jar.cookie}\r\n`);
  const sa = d.http.connect(80);
  sa.write(cmd1);
  d.run(300);
  assert.equal(sa.closedByDevice, false, "Cmd1 still waiting for X25519");
  // Client B (no cookie) probes proto-ver meanwhile.
  const b = raw(d, post("proto-ver", Buffer.from("ESP")), 5000);
  assert.equal(b.reply?.status, 200);
  assert.match(b.reply!.body.toString(), /"cap":\t\["wifi_scan"\]/);
  assert.equal(b.reply!.headers["set-cookie"], undefined);
  assert.equal(sa.closedByDevice, false, "A still waiting");
  d.sched.runWhile(() => sa.closedByDevice, 60000);
  const ra = parseResponse(sa.received)!;
  assert.equal(ra.status, 200);
  const sr1 = decode(D_SessionData, ra.body).sec1.sr1;
  assert.deepEqual(Buffer.from(cipher.update(sr1.device_verify_data)), Buffer.from(pub));
  assert.ok(d.lines().some((l) => /security1: Secure session established/.test(l)));
});

test("Android library: a new connection per request, a stale cookie from another session, probe ESP", async () => {
  const d = apDevice(B.sec0);
  const jar: CookieJar = { cookie: "session=12345" }; // static CookieManager, from an earlier device
  const r = await prov(d, { style: "android", jar, probe: "ESP" });
  assert.equal(r.ok, true);
  assert.notEqual(jar.cookie, "session=12345");
});

test("esp_prov v3.2-era over SoftAP (no cookies, version string V0.1): the cookie-less session continues; a cookie client is not hijacked", async () => {
  const d = apDevice(B.fixed);
  // A modern client's session, once it has echoed its cookie, is not continued by a cookie-less request.
  const jar: CookieJar = {};
  const s = await startSession(client(d, "esp_prov", jar), { era: "seed", secVer: 0 });
  assert.ok(jar.cookie);
  await s.ex("custom-data", Buffer.from("x")); // carries the cookie
  const { reply } = raw(d, post("custom-data", Buffer.from("y")));
  assert.ok(reply?.headers["set-cookie"] && reply.headers["set-cookie"] !== jar.cookie, "a cookie-less request got a new session of its own");
  // The old client never sends the cookie it is given, yet its session goes on request after request.
  assert.equal((await prov(d, { style: "esp_prov_v32", era: "seed", secVer: 0 })).ok, true);
  // A cookie client arriving while that cookie-less session is current still gets a working session.
  const s2 = await startSession(client(d), { era: "seed", secVer: 0 });
  assert.equal(Buffer.from(await s2.ex("custom-data", Buffer.from("z"))).toString(), "SUCCESS");
});

test("iOS library at the default slow-down: security 1 completes with every reply inside its 30 s limit", async () => {
  const d = apDevice(SOFTAP_BUNDLE, { slowdown: undefined as unknown as number });
  const times: number[] = [];
  const inner = client(d, "ios");
  const t = { exchange: async (ep: string, b: Uint8Array) => { const t0 = d.sched.now; const x = await inner.exchange(ep, b); times.push(d.sched.now - t0); return x; }, close: inner.close };
  const r = await provision(t, { ssid: "myssid", passphrase: "mypassword", pop: boardPop(d), probe: "ESP", sleep: async (ms) => d.run(ms) });
  assert.equal(r.ok, true);
  assert.ok(Math.max(...times) < 30000, `longest reply ${Math.max(...times)} ms`);
});

test("both transports at once: BLE and SoftAP serve the same endpoints; the QR names softap", async () => {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05 });
  d.install(loadBundle(B.both));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started/, 10000));
  assert.ok(d.lines().some((l) => /app: Starting BLE and SoftAP provisioning/.test(l)));
  assert.ok(d.lines().some((l) => /W \(\d+\) app: BLE protocomm cannot work on Espruino 2v29/.test(l)));
  assert.ok(d.lines().some((l) => /"transport":"softap"/.test(l)));
  const ble = await bleTransport(simCentral(d));
  assert.match(Buffer.from(await ble.exchange("proto-ver", Buffer.from("none"))).toString(), /"cap":\t\["wifi_scan"\]/);
  await ble.close();
  assert.equal((await prov(d, { scan: {} })).ok, true);
  d.run(35000);
  assert.ok(d.lines().some((l) => /Rebooting with BLE off/.test(l)), "BLE freed after success");
});

test("ESP32-C3: the AP goes while the station connects and comes back after a failure; then success", async () => {
  const d = apDevice(B.c3, { board: { ...DEFAULT_BOARD, id: "esp32c3", rngRegister: "0x600260B0" } });
  assert.ok(d.lines().some((l) => /W \(\d+\) wifi_prov_softap: No AP\+STA on this chip: the AP goes down while the station connects/.test(l)));
  const t = client(d);
  const s = await startSession(t, {});
  // SetConfig + ApplyConfig with a wrong passphrase, then watch the AP.
  const { D_WiFiConfigPayload } = await import("../../src/proto/schema.gen");
  const x = async (m: object) => decode(D_WiFiConfigPayload, await s.ex("prov-config", encode(D_WiFiConfigPayload, m)));
  await x({ msg: 2, cmd_set_config: { ssid: Buffer.from("myssid"), passphrase: Buffer.from("wrongpass") } });
  await x({ msg: 4 });
  d.run(1500);
  assert.equal(d.wifi.ap, undefined, "AP dropped by the station connect (C3)");
  d.run(5000);
  assert.ok(d.wifi.ap, "AP back after the failure");
  const st = await x({ msg: 0, cmd_get_status: {} });
  assert.equal(st.resp_get_status.sta_state, 3);
  assert.equal(await ctrl(s, "reset"), 0);
  await x({ msg: 2, cmd_set_config: { ssid: Buffer.from("myssid"), passphrase: Buffer.from("mypassword") } });
  await x({ msg: 4 });
  d.run(5000);
  assert.equal(d.wifi.status.station, "connected");
  assert.ok(d.lines().some((l) => /WiFi credentials saved to flash/.test(l)));
});

test("a WPA2 SoftAP: the phone needs the passphrase, which the QR code carries", async () => {
  const d = apDevice(B.pass);
  assert.deepEqual(d.wifi.apStarts.map((a) => [a.authMode, a.password]), [["wpa2", "provpass1"]]);
  assert.ok(d.lines().some((l) => l.includes('"password":"provpass1"')));
  assert.equal(d.wifi.joinAp("PROV_261FCC", "wrong"), false);
  assert.equal(d.wifi.joinAp("PROV_261FCC", "provpass1"), true);
});

test("Espruino's server: res.write(Uint8Array) sends the text 1,2,3; no Content-Length unless set", () => {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05 });
  d.boot(false);
  d.wifi.api().startAP("X", {}, undefined);
  d.evaluate('require("http").createServer(function(q,s){ s.writeHead(200,{}); s.end(new Uint8Array([1,2,3])); }).listen(80);');
  d.run(10);
  const { reply } = raw(d, "POST /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nA");
  assert.equal(reply!.body.toString(), "1,2,3");
  assert.equal(reply!.headers["content-length"], undefined);
  assert.equal(reply!.headers["connection"], "close");
});
