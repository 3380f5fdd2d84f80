// The user-facing commands as a user runs them, as subprocesses: npm run prov against a running simulator
// (exit code and one-line message for each failure), npm run sim's arguments, ports, TCP servers and
// signals, npm start's output, npm run bench without an interpreter, and the QR code drawn from the
// firmware's payload line (decoded back with a QR decoder).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import jsQR from "jsqr";
import { QR_PREFIX, qrLines, qrModules, qrBlock } from "../../tools/qr.mjs";
import { colorizer } from "../../tools/monitor.mjs";
import { until, SOFTAP_BUNDLE, BLE_BUNDLE, scratchRepo, logPop } from "./helpers";

const ROOT = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-"));
const procs = new Set<ChildProcess>();
after(() => { for (const p of procs) p.kill("SIGKILL"); });

interface Run { code: number | null; out: string; err: string }
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env });
    procs.add(p);
    let out = "", err = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { err += d; });
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => { clearTimeout(t); procs.delete(p); resolve({ code, out, err }); });
  });
}
const node = (...args: string[]) => run(process.execPath, ["--import", "tsx", ...args]);
/** npm run prov over the simulator's virtual BLE central (a BLE build). */
const prov = (port: number | string, ...args: string[]) => node("test-host/client/prov-cli.ts", "--transport", "ble", "--port", String(port), "--poll_interval", "0.2", ...args);
/** npm run prov over SoftAP/HTTP (the default build), as esp_prov --transport softap --service_name. */
const provAp = (port: number, ...args: string[]) => node("test-host/client/prov-cli.ts", "--service_name", `127.0.0.1:${port}`, "--poll_interval", "0.2", ...args);

/** A one-line message on stderr, no stack trace. */
function oneLine(r: Run, re: RegExp) {
  assert.match(r.err, re);
  assert.equal(r.err.trim().split("\n").length, 1, `one line expected:\n${r.err}`);
  assert.doesNotMatch(r.err, /^\s+at /m, "no stack trace");
}

/** Session failures prov reports in the same words over BLE and SoftAP: each run exits 1 with its one line. */
async function sameOnBothTransports(run: (...a: string[]) => Promise<Run>) {
  const cases: [string[], RegExp][] = [
    [["--pop", "wrong"], /^prov: wrong proof of possession: .*check --pop against the firmware's PROV_POP/],
    [["--sec_ver", "0"], /^prov: security-version mismatch: the device uses Security 1, you asked for --sec_ver 0/],
  ];
  for (const [args, re] of cases) {
    const r = await run("--ssid", "myssid", "--passphrase", "mypassword", ...args);
    assert.equal(r.code, 1);
    oneLine(r, re);
  }
}

interface Sim { proc: ChildProcess; port: number; httpPort: number; out: () => string; err: () => string; flash: string }
/** A simulated board's Storage holding a bundle as .boot0 (what npm run flash would have written). */
function flashWith(bundle: string): string {
  const flash = path.join(tmp, `flash-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(flash, JSON.stringify({ ".boot0": fs.readFileSync(path.resolve(ROOT, bundle)).toString("base64") }));
  return flash;
}
/**
 * `npm run sim` (or sim-cli directly) with a virtual central and the board's HTTP server on free ports;
 * resolves once they listen. Default firmware: the tests' SoftAP build (never dist/firmware.js, which follows
 * the user's sdkconfig); `["--flash", flashWith(BLE)]` for BLE.
 */
function sim(args: string[] = [], viaNpm = false, slowdown = ["--slowdown", "0.05"]): Promise<Sim> {
  const given = args.indexOf("--flash");
  const flash = given >= 0 ? args[given + 1]! : flashWith(SOFTAP_BUNDLE);
  const cli = ["--gatt-port", "0", "--http-port", "0", ...(given >= 0 ? [] : ["--flash", flash]), ...slowdown, ...args];
  const p = viaNpm ? spawn("npm", ["run", "-s", "sim", "--", ...cli], { cwd: ROOT }) : spawn(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", ...cli], { cwd: ROOT });
  procs.add(p);
  let out = "", err = "";
  p.stdout!.on("data", (d) => { out += d; });
  return new Promise((resolve, reject) => {
    p.stderr!.on("data", (d) => {
      err += d;
      const m = /virtual central on 127\.0\.0\.1:(\d+)/.exec(err), h = /HTTP server .* on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m && h) resolve({ proc: p, port: Number(m[1]), httpPort: Number(h[1]), out: () => out, err: () => err, flash });
    });
    p.on("close", (c) => reject(new Error(`sim exited ${c}: ${err}`)));
  });
}
const stopSim = (s: Sim) => { s.proc.kill("SIGKILL"); procs.delete(s.proc); };
const BLE = BLE_BUNDLE;

/** A raw client of the simulator's --gatt-port protocol. */
async function rawCentral(port: number) {
  const s = net.connect(port, "127.0.0.1");
  await new Promise((res, rej) => { s.once("connect", res); s.once("error", rej); });
  let buf = "";
  const waiting: ((v: any) => void)[] = [];
  s.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\n")) >= 0) { waiting.shift()?.(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); } });
  return {
    call: (m: object) => new Promise<any>((res) => { waiting.push(res); s.write(JSON.stringify(m) + "\n"); }),
    destroy: () => s.destroy(),
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Decodes the QR code drawn after the payload line in a log; returns [payload JSON, decoded text]. */
function decodeDrawnQr(log: string, color = false): [string, string | undefined] {
  const lines = log.replace(/\r/g, "").split("\n");
  const i = lines.findIndex((l) => l.includes(QR_PREFIX));
  assert.ok(i >= 0, "payload line logged");
  const json = lines[i]!.slice(lines[i]!.indexOf(QR_PREFIX) + QR_PREFIX.length).replace(/\x1b\[[0-9;]*m/g, "").trim();
  const end = lines.findIndex((l, k) => k > i && /^Scan this QR code/.test(l));
  assert.ok(end > i + 10, "a QR code drawn under the payload line");
  const rows = qrModules(lines.slice(i + 1, end), { color });
  const S = 3, h = rows.length * S, w = rows[0]!.length * S, px = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const v = rows[(y / S) | 0]![(x / S) | 0] ? 0 : 255; px.set([v, v, v, 255], (y * w + x) * 4); }
  return [json, jsQR(px, w, h, { inversionAttempts: "dontInvert" })?.data];
}

test("QR code: both terminal drawings decode back to the payload; the monitor draws it under the payload line", () => {
  const json = '{"ver":"v1","name":"PROV_261FCC","pop":"abcd1234","transport":"ble"}';
  for (const color of [true, false]) {
    const [got, decoded] = decodeDrawnQr(`I (500) app: ${QR_PREFIX}${json}\n${qrBlock(QR_PREFIX + json, { color })!.slice(0, -1).join("\n")}\nScan this QR code\n`, color);
    assert.equal(got, json);
    assert.equal(decoded, json, `color=${color}`);
  }
  assert.equal(qrBlock("I (500) app: Starting BLE provisioning"), undefined);
  assert.ok(qrLines("x").every((l) => l.startsWith("\x1b[30;107m")), "colour drawing forces dark-on-white");
  let out = "";
  const c = colorizer((t: string) => { out += t; }, false);
  c(`I (500) app: QR pay`); c(`load for the provisioning app: ${json}\r\n>`);
  assert.deepEqual(decodeDrawnQr(out), [json, json]);
});

test("prov: --help, unknown and malformed flags are refused in one line with exit 2", async () => {
  const [help, typo, sec, port, nossid, novalue] = await Promise.all([
    prov(1, "--help"),
    prov(1, "--ssid", "myssid", "--passphase", "mypassword"),
    prov(1, "--ssid", "myssid", "--sec_ver", "3"),
    node("test-host/client/prov-cli.ts", "--port", "abc", "--ssid", "x"),
    prov(1, "--passphrase", "x"),
    prov(1, "--ssid", "x", "--pop"),
  ]);
  assert.equal(help.code, 0);
  for (const f of ["--transport", "--port", "--service_name", "--sec_ver", "--pop", "--sec2_username", "--sec2_pwd", "--ssid", "--passphrase", "--poll_interval", "--custom_data", "--reset", "--reprov"]) assert.match(help.out, new RegExp(`^  ${f} `, "m"));
  assert.match(help.out, /--port N .*\(default 8765\)/);
  assert.match(help.out, /--transport MODE .*\(default softap\)/);
  assert.match(help.out, /default 127\.0\.0\.1:8080, npm run sim's --http-port/);
  for (const r of [typo, sec, port, nossid, novalue]) assert.equal(r.code, 2, r.err);
  oneLine(typo, /^prov: unknown flag --passphase \(did you mean --passphrase\?\)/);
  oneLine(sec, /^prov: --sec_ver must be 0 or 1 or 2, not '3'/);
  oneLine(port, /^prov: --port must be a TCP port number/);
  oneLine(nossid, /^prov: --passphrase needs --ssid \(without --ssid prov only lists the networks\)/);
  oneLine(novalue, /^prov: --pop needs a value/);
});

test("prov: nothing listening on the port (BLE central, SoftAP HTTP)", async () => {
  const p = await freePort();
  const [ble, ap] = await Promise.all([prov(p, "--ssid", "myssid"), provAp(p, "--ssid", "myssid")]);
  assert.equal(ble.code, 1);
  oneLine(ble, new RegExp(`^prov: nothing is listening on 127\\.0\\.0\\.1:${p}: start the simulator \\(npm run sim\\)`));
  assert.equal(ap.code, 1);
  oneLine(ap, new RegExp(`^prov: nothing is listening on 127\\.0\\.0\\.1:${p}: start the simulator \\(npm run sim, HTTP on 127\\.0\\.0\\.1:8080\\) or join the board's PROV_xxxxxx network`));
});

test("prov against npm run sim (BLE build): no device, wrong PoP, security mismatch, Wi-Fi errors, then success; a closed client socket is a disconnect", { timeout: 120_000 }, async () => {
  const s = await sim(["--flash", flashWith(BLE), "--gatt", "deferred-write"]); // a patched Espruino: stock 2v29 cannot provision over BLE
  try {
    // A client that connects and then dies without a disconnect op (crash, Ctrl-C).
    const c = await rawCentral(s.port);
    assert.equal((await c.call({ op: "scan" })).devices.length, 1);
    assert.equal((await c.call({ op: "connect", mtu: 517 })).ok, true);
    let r = await prov(s.port, "--ssid", "myssid");
    assert.equal(r.code, 1);
    oneLine(r, /^prov: no device is advertising: is it in provisioning mode and free\?/);
    c.destroy();
    await until(() => /client closed its connection: BLE link dropped/.test(s.err()), "socket close drops the link");
    const c2 = await rawCentral(s.port);
    assert.equal((await c2.call({ op: "scan" })).devices.length, 1, "advertising again after the socket closed");
    c2.destroy();

    r = await prov(s.port, "--ssid", "myssid", "--service_name", "PROV_000000");
    assert.equal(r.code, 1);
    oneLine(r, /^prov: no device named PROV_000000 is advertising: check --service_name/);
    r = await prov(s.port, "--ssid", "x".repeat(32), "--passphrase", "mypassword", "--pop", logPop(s.out()), "--service_name", "PROV_261FCC");
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device refused the credentials as invalid \(SetConfig InvalidArgument\)/);
    r = await prov(s.port, "--ssid", "myssid", "--passphrase", "mypassword");
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device needs a proof of possession: pass --pop/);
    await sameOnBothTransports((...a) => prov(s.port, ...a));
    r = await prov(s.port, "--ssid", "otherssid", "--passphrase", "mypassword", "--pop", logPop(s.out()));
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device could not join Wi-Fi otherssid: network not found \(NetworkNotFound\): check --ssid/);
    r = await prov(s.port, "--ssid", "myssid", "--passphrase", "wrongpass", "--pop", logPop(s.out()));
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device could not join Wi-Fi myssid: wrong password \(AuthError\): check --passphrase/);
    r = await prov(s.port, "--ssid", "myssid", "--passphrase", "mypassword", "--pop", logPop(s.out()));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /==== Provisioning was successful ====/);
    assert.equal(r.err, "");
    // Again while still connected (before the 30 s auto-stop): the device keeps the credentials it has.
    r = await prov(s.port, "--ssid", "myssid", "--passphrase", "mypassword", "--pop", logPop(s.out()));
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device refused new credentials \(SetConfig InternalError\): it is already connected/);
    // The simulator's log draws the payload as a QR code (stdout is a pipe here: the no-colour form).
    const [json, decoded] = decodeDrawnQr(s.out());
    assert.equal(decoded, json);
    assert.equal(JSON.parse(json).transport, "ble");
  } finally {
    stopSim(s);
  }
});

test("prov over SoftAP against npm run sim (default build): wrong PoP, mismatch, Wi-Fi errors, custom data, reset, reprov, success", { timeout: 120_000 }, async () => {
  const s = await sim();
  try {
    await until(() => /SoftAP started/.test(s.out()), "AP up", 30_000);
    await sameOnBothTransports((...a) => provAp(s.httpPort, ...a));
    let r = await provAp(s.httpPort, "--ssid", "myssid", "--passphrase", "wrongpass", "--pop", logPop(s.out()));
    assert.equal(r.code, 1);
    oneLine(r, /^prov: the device could not join Wi-Fi myssid: wrong password \(AuthError\): check --passphrase/);
    r = await provAp(s.httpPort, "--reprov", "--pop", logPop(s.out()));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /==== Reprovisioning WiFi====/);
    r = await provAp(s.httpPort, "--reset", "--pop", logPop(s.out()));
    assert.equal(r.code, 1, "nothing failed since the reprov");
    oneLine(r, /^prov: the device refused reset \(it resets only after a failed connection attempt\) \(status 5\)/);
    r = await provAp(s.httpPort, "--ssid", "myssid", "--passphrase", "mypassword", "--pop", logPop(s.out()), "--custom_data", "hi there");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\+\+\+\+ Connecting to 127\.0\.0\.1:\d+\+\+\+\+[\s\S]*CustomData response: "SUCCESS"[\s\S]*==== Provisioning was successful ====/);
    assert.match(s.out(), /app_custom: Received data: hi there/);
    const [json, decoded] = decodeDrawnQr(s.out());
    assert.equal(decoded, json);
    assert.deepEqual(JSON.parse(json), { ver: "v1", name: "PROV_261FCC", pop: logPop(s.out()), transport: "softap", security: 1 });
    assert.equal(logPop(s.out()), "abcd1234", "the tests' SoftAP build names its PoP (fixed mode; the random PoP: app.test.ts)");
  } finally {
    stopSim(s);
  }
});

test("npm run sim at its default timing, then npm run prov once the key pair is ready: provisioned (Security 1, the board's PoP from its log)", { timeout: 240_000 }, async () => {
  const s = await sim([], false, []);
  try {
    // Right after boot SessionCmd0 waits for the accelerator's self-test and the device key pair (an X25519, about
    // 13 s of device time here): start once the board logs that its key pair is ready. SessionCmd1 then waits for
    // the shared secret (one X25519, about 11 s at this timing), within esp_prov's 60 s.
    await until(() => /security1: Device key pair ready/.test(s.out()), "key pair ready", 150_000);
    const r = await run(process.execPath, ["--import", "tsx", "test-host/client/prov-cli.ts", "--service_name", `127.0.0.1:${s.httpPort}`, "--poll_interval", "0.2",
      "--pop", logPop(s.out()), "--ssid", "myssid", "--passphrase", "mypassword"], process.env, 200_000);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /==== Provisioning was successful ====/);
  } finally {
    stopSim(s);
  }
});

test("a Security 0 build (menuconfig --set PROV_SECURITY_VERSION=0): prov without --sec_ver provisions it; --sec_ver 1 is a named mismatch", { timeout: 90_000 }, async () => {
  const cfg = path.join(tmp, "sdkconfig.sec0"), bundle = path.join(tmp, "sec0.js"), flash = path.join(tmp, "sec0-flash.json");
  fs.copyFileSync(path.join(ROOT, "test-host/configs/softap.sdkconfig"), cfg);
  let r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "PROV_SECURITY_VERSION=0"]);
  assert.equal(r.code, 0, r.err);
  r = await run("node", ["tools/build.mjs", "--config", cfg, "--out", bundle]);
  assert.equal(r.code, 0, r.err);
  // The simulated board's Storage with that bundle as .boot0 (what npm run flash would have written).
  fs.writeFileSync(flash, JSON.stringify({ ".boot0": fs.readFileSync(bundle).toString("base64") }));
  const s = await sim(["--flash", flash]);
  try {
    await until(() => /SoftAP started/.test(s.out()), "AP up", 30_000);
    r = await provAp(s.httpPort, "--sec_ver", "1", "--pop", "abcd1234", "--ssid", "myssid", "--passphrase", "mypassword");
    assert.equal(r.code, 1);
    oneLine(r, /^prov: security-version mismatch: the device uses Security 0, you asked for --sec_ver 1/);
    r = await provAp(s.httpPort, "--pop", "abcd1234", "--ssid", "myssid", "--passphrase", "mypassword");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /==== Security Scheme: 0 ====[\s\S]*==== Provisioning was successful ====/);
  } finally {
    stopSim(s);
  }
});

test("sim: every argument checked, in one line, before anything boots", async () => {
  const cases: [string[], RegExp][] = [
    [["--slowdown", "abc"], /^sim: --slowdown must be a number \(0 or more\), e\.g\. 0\.05, not 'abc'/],
    [["--gatt-port", "70000"], /^sim: --gatt-port must be a TCP port number \(0-65535\), not '70000'/],
    [["--console-port", "x1"], /^sim: --console-port must be a TCP port number/],
    [["--mac", "24:0a:c4"], /^sim: --mac must look like AA:BB:CC:DD:EE:FF, not '24:0a:c4'/],
    [["--storage-bytes", "12"], /^sim: --storage-bytes must be a whole number of bytes, at least 4096/],
    [["--slowdown"], /^sim: --slowdown needs a value/],
    [["--bogus", "1"], /^sim: unknown option '--bogus'/],
    [["--gatt", "fast"], /^sim: --gatt must be espruino-2v29 or deferred-write/],
  ];
  const runs = await Promise.all(cases.map(([a]) => node("test-host/sim-cli.ts", "--flash", path.join(tmp, "never.json"), ...a)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, cases[i]![0].join(" "));
    oneLine(r, cases[i]![1]);
    assert.equal(r.out, "", "nothing booted");
  });
  assert.ok(!fs.existsSync(path.join(tmp, "never.json")));
});

test("sim: a port in use is refused before the firmware boots", async () => {
  const busy = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => busy.once("listening", r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    for (const flag of ["--gatt-port", "--console-port", "--http-port"]) {
      const flash = path.join(tmp, `busy${flag}.json`);
      const other = ["--gatt-port", "--http-port"].filter((f) => f !== flag).flatMap((f) => [f, "0"]);
      const r = await node("test-host/sim-cli.ts", "--flash", flash, ...other, flag, String(port));
      assert.equal(r.code, 1, r.err);
      oneLine(r, new RegExp(`^sim: port ${port} \\(.*\\) is already in use, perhaps by another npm run sim: stop that or pass ${flag} N`));
      assert.doesNotMatch(r.out, /Starting .*provisioning/, "the firmware did not boot");
      assert.ok(!fs.existsSync(flash));
    }
  } finally {
    busy.close();
  }
});

test("sim: SIGTERM to npm run sim and SIGINT to the simulator free its ports", { timeout: 60_000 }, async () => {
  for (const [viaNpm, sig] of [[true, "SIGTERM"], [false, "SIGINT"]] as const) {
    const s = await sim(["--console-port", "0"], viaNpm);
    const consolePort = Number(/serial console on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(s.err())![1]);
    const closed = new Promise((r) => s.proc.on("close", r));
    s.proc.kill(sig);
    await closed;
    const refused = async (p: number) => new Promise<boolean>((res) => {
      const c = net.connect(p, "127.0.0.1");
      c.once("connect", () => { c.destroy(); res(false); });
      c.once("error", () => res(true));
    });
    // npm's forwarded signal must reach the node process that holds the ports (no orphan keeps them).
    let free = false;
    for (let i = 0; i < 40 && !(free = (await refused(s.port)) && (await refused(consolePort)) && (await refused(s.httpPort))); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(free, `${viaNpm ? "npm run sim" : "sim-cli"} ${sig}: ports ${s.port}/${consolePort}/${s.httpPort} released`);
  }
});

test("npm start (in a copy of the repo, default sdkconfig): builds, boots the SoftAP build at the calibrated timing, provisions it over HTTP, draws the QR code, stops the AP", { timeout: 120_000 }, async () => {
  assert.match(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start, /^node --import tsx test-host\/demo\.ts$/);
  const [help, bad] = await Promise.all([node("test-host/demo.ts", "--help"), node("test-host/demo.ts", "--fast")]);
  const r = await run("npm", ["start", "-s"], process.env, 110_000, scratchRepo());
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: npm start/);
  assert.equal(bad.code, 2);
  oneLine(bad, /^start: unknown or incomplete argument '--fast'/);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^built dist\/firmware\.js from sdkconfig: [\d]+ bytes\n/);
  assert.match(r.out, /--- sdkconfig: SoftAP, Security 1, PoP "abcd1234" ---/);
  assert.match(r.out, /SoftAP Provisioning started with SSID 'PROV_[0-9A-F]{6}'/);
  assert.match(r.out, /\[esp_prov\] POST \/prov-session: \d+ B → \d+ B after [\d.]+ s/);
  assert.match(r.out, /\[esp_prov\] ==== Provisioning was successful ====/);
  assert.match(r.out, /I \(\d+\) app: got ip:192\.168\.43\.220[\s\S]*app_prov: Provisioning stopped\n--- provisioned; the access point stopped, the board stays on myssid ---/);
  const [json, decoded] = decodeDrawnQr(r.out);
  assert.equal(decoded, json);
  assert.deepEqual(JSON.parse(json), { ver: "v1", name: /SSID '(PROV_\w+)'/.exec(r.out)![1], pop: logPop(r.out), transport: "softap", security: 1 });
  assert.match(r.out, new RegExp(`--pop ${logPop(r.out)} `), "the demo's client uses the PoP the board logged");
});

test("npm run bench without an interpreter: sizes, host X25519, the Security 1 session, and what it skipped", { timeout: 120_000 }, async () => {
  const env = { ...process.env };
  delete env.ESPRUINO;
  const [help, bad] = await Promise.all([node("test-host/bench.ts", "--help"), node("test-host/bench.ts", "--espruino=/x")]);
  const r = await run(process.execPath, ["--import", "tsx", "test-host/bench.ts"], env, 110_000);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: npm run bench[\s\S]*ESPRUINO=\/path\/to\/espruino npm run bench/);
  assert.equal(bad.code, 2);
  oneLine(bad, /^bench: unknown argument '--espruino=\/x'/);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /minified \(dist\/bench\/softap\.js\)\s+[\d,]+ B\s+goal ≤ 24,576 B\s+(ok|OVER)/);
  assert.match(r.out, /RFC 7748 §5\.2 1,000 iterations\s+match/);
  assert.match(r.out, /result\s+Connected 192\.168\.43\.220/);
  assert.match(r.out, /simulated device time\s+[\d.]+ s from connect to that result/);
  assert.match(r.out, /ESPRUINO not set: no interpreter instruction counts/);
});
