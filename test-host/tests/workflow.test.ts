// The user's workflow from the README: menuconfig (through a pseudo-terminal), flash with the official
// espruino CLI into the simulator's serial console over TCP, watch it boot in the monitor; and every bad
// input those commands meet, checked by its message and exit code.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import xterm from "@xterm/headless";
import { CREDENTIAL_FILES } from "../../tools/board.mjs";
import { colorizer } from "../../tools/monitor.mjs";
import { SLOTS } from "../../src/prov/credentials";
import { until, logPop } from "./helpers";
import { labelPayload, labelSvg } from "../../tools/label.mjs";
import { readConfig, writeConfig } from "../../tools/config.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
const procs = new Set<ChildProcess>();
after(() => { for (const p of procs) p.kill("SIGKILL"); });

interface Run { code: number | null; out: string; err: string }
function run(cmd: string, args: string[], o: { input?: string; thenInput?: [RegExp, string]; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    procs.add(p);
    let out = "", err = "";
    let waiting = !!o.thenInput;
    p.stdout.on("data", (d) => {
      out += d;
      // thenInput: once stdout matches, send the rest (e.g. Ctrl-] after the answer arrived).
      if (waiting && o.thenInput![0].test(out)) { waiting = false; p.stdin.end(o.thenInput![1]); }
    });
    p.stderr.on("data", (d) => { err += d; });
    if (o.thenInput) p.stdin.write(o.input ?? "");
    else if (o.input !== undefined) p.stdin.end(o.input);
    const t = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs ?? 120_000);
    p.on("close", (code) => { clearTimeout(t); procs.delete(p); resolve({ code, out, err }); });
  });
}

/** npm run sim with a serial console on a free TCP port; resolves once it listens. */
function sim(args: string[], files: Record<string, string> = {}): Promise<{ port: string; gattPort: number; httpPort: number; log: () => string; flash: string; stop: () => void }> {
  const flash = path.join(tmp, `flash-${Math.random().toString(36).slice(2)}.json`);
  // Files already in the board's Storage (a program saved from the Web IDE, say).
  if (Object.keys(files).length) fs.writeFileSync(flash, JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v, "latin1").toString("base64")]))));
  const p = spawn(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", "--flash", flash, "--console-port", "0", "--gatt-port", "0", "--http-port", "0", "--slowdown", "0.05", ...args], { cwd: ROOT });
  procs.add(p);
  let out = "", err = "";
  p.stdout.on("data", (d) => { out += d; });
  return new Promise((resolve, reject) => {
    p.stderr.on("data", (d) => {
      err += d;
      const m = /serial console on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(err), g = /virtual central on 127\.0\.0\.1:(\d+)/.exec(err);
      const h = /HTTP server .* on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m && g && h) resolve({ port: m[1]!, gattPort: Number(g[1]), httpPort: Number(h[1]), log: () => out, flash, stop: () => { p.kill(); procs.delete(p); } });
    });
    p.on("close", (c) => reject(new Error(`sim exited ${c}: ${err}`)));
  });
}

/** A whole commented config file with the tests' values (never the user's sdkconfig), as menuconfig writes one. */
function configFile(name: string): string {
  const f = path.join(tmp, name);
  writeConfig(f, readConfig(path.join(ROOT, "test-host/configs/softap.sdkconfig")));
  return f;
}
/** flash.sh with the tests' SoftAP config, whatever the user's sdkconfig holds. */
const flash = (...args: string[]) => run("bash", ["flash.sh", "--config", "test-host/configs/softap.sdkconfig", ...args]);

/** npm run menuconfig on cfg in a pseudo-terminal drawn by xterm: the screen's text, the selected row, keys. */
function menuPty(cfg: string) {
  const screen = new xterm.Terminal({ cols: 100, rows: 24, allowProposedApi: true });
  // `script` gives the program a real pty (util-linux); stty sets the window size the UI lays out in.
  const p = spawn("script", ["-qfec", `stty rows 24 cols 100; exec node tools/menuconfig.mjs --config ${cfg}`, "/dev/null"],
    { cwd: ROOT, env: { ...process.env, TERM: "xterm-256color" } });
  procs.add(p);
  const closed = new Promise((r) => p.on("close", r));
  // The UI draws a screen in several writes and xterm parses them asynchronously: "settled" means every
  // write parsed and nothing new for 120 ms, so an assertion never sees a half-drawn screen.
  let pending = 0, lastData = Date.now();
  p.stdout.on("data", (d) => { pending++; lastData = Date.now(); screen.write(d, () => { pending--; }); });
  const settled = async () => {
    for (let i = 0; i < 100 && (pending > 0 || Date.now() - lastData < 120); i++) await new Promise((r) => setTimeout(r, 30));
  };
  screen.onData((d) => p.stdin.write(d)); // the terminal's answers (cursor position reports) go back, as a real one's do
  const text = () => { const b = screen.buffer.active, r: string[] = []; for (let i = 0; i < screen.rows; i++) r.push(b.getLine(i)!.translateToString(true)); return r.join("\n"); };
  const selected = () => { // the row drawn in inverse video
    const b = screen.buffer.active;
    for (let i = 0; i < screen.rows; i++) if (b.getLine(i)!.getCell(2)?.isInverse()) return b.getLine(i)!.translateToString(true).trim();
    return "";
  };
  const untilScreen = async (re: RegExp, what: string) => {
    for (let i = 0; i < 100 && !re.test(text()); i++) await new Promise((r) => setTimeout(r, 50));
    await settled();
    assert.match(text(), re, `${what}\n--- screen ---\n${text()}`);
  };
  const keys = async (k: string) => { p.stdin.write(k); await new Promise((r) => setTimeout(r, 150)); await settled(); };
  return { closed, text, selected, untilScreen, keys };
}
const DOWN = "\x1b[B", UP = "\x1b[A", ENTER = "\r", BACKSPACE = "\x7f";

test("menuconfig in a pseudo-terminal: move, help, choose, hidden options, range error, edit, save keeps comments", { timeout: 60_000 }, async () => {
  const cfg = configFile("sdkconfig.tui");
  const before = fs.readFileSync(cfg, "utf8");
  const { closed, text, selected, untilScreen, keys } = menuPty(cfg);

  await untilScreen(/Proof of possession \(PoP\)\s+"abcd1234"/, "menu shows the options and values");
  assert.match(text(), /S save and quit/, "the footer says what S does (it saves and quits at once)");
  assert.match(selected(), /^Provisioning transport/);
  await keys(DOWN);
  assert.match(selected(), /^Security version\s+1/);
  await keys("?");
  await untilScreen(/X25519 key exchange \+ proof of possession/, "? shows the option's help");
  await keys(ENTER);
  await untilScreen(/choose with/, "a choice opens its list");
  await keys(UP); await keys(ENTER); // 1 → 0
  await untilScreen(/Security version\s+0/, "security 0 chosen");
  assert.doesNotMatch(text(), /Proof of possession|X25519 ladder/, "options that depend on security 1 are hidden");
  // The auto-stop delay (it stops the AP as well as BLE): out of range first (refused, value kept), then a good value.
  for (let i = 0; i < 3; i++) await keys(DOWN);
  assert.match(selected(), /^Provisioning auto-stop delay/);
  await keys(ENTER); await keys(BACKSPACE + BACKSPACE + "2" + ENTER);
  await untilScreen(/not changed: 2 is out of range: must be an integer from 5 to 600/, "range enforced");
  assert.match(selected(), /Provisioning auto-stop delay \(s\)\s+30/);
  await keys(ENTER); await keys(BACKSPACE + BACKSPACE + "45" + ENTER);
  await untilScreen(/Provisioning auto-stop delay \(s\)\s+45/, "value accepted");
  await keys("s");
  await closed;
  const saved = fs.readFileSync(cfg, "utf8");
  assert.match(saved, /^CONFIG_PROV_SECURITY_VERSION=0$/m);
  assert.match(saved, /^CONFIG_PROV_AUTOSTOP_S=45$/m);
  assert.deepEqual(saved.split("\n").filter((l) => l.startsWith("#")), before.split("\n").filter((l) => l.startsWith("#")), "comments intact");
  assert.equal(saved.split("\n").length, before.split("\n").length, "no lines added or lost");
});

test("menuconfig opens a file with a typo, the bad line flagged on its option; fixing it there and saving repairs the file", { timeout: 60_000 }, async () => {
  const cfg = configFile("sdkconfig.typo");
  fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replace(/^CONFIG_PROV_AUTOSTOP_S=30$/m, "CONFIG_PROV_AUTOSTOP_S=3O"));
  const line = fs.readFileSync(cfg, "utf8").split("\n").indexOf("CONFIG_PROV_AUTOSTOP_S=3O") + 1;
  assert.throws(() => readConfig(cfg), /CONFIG_PROV_AUTOSTOP_S=3O is not an integer from 5 to 600/);
  const { closed, text, selected, untilScreen, keys } = menuPty(cfg);
  await untilScreen(new RegExp(`line ${line}: CONFIG_PROV_AUTOSTOP_S=3O is not an integer from 5 to 600`), "the bad line is named under the menu");
  assert.match(selected(), /^Provisioning auto-stop delay \(s\)\s+3O\s+✗ not valid: Enter to fix/, "the menu opens on the flagged option");
  await keys(ENTER); await keys(BACKSPACE + BACKSPACE + "40" + ENTER);
  await untilScreen(/Provisioning auto-stop delay \(s\)\s+40\s*$/m, "fixed");
  assert.doesNotMatch(text(), /✗/);
  await keys("s");
  await closed;
  assert.equal(readConfig(cfg).PROV_AUTOSTOP_S, 40);
});

test("menuconfig quit without saving leaves the file as it was", { timeout: 30_000 }, async () => {
  const cfg = configFile("sdkconfig.quit");
  const before = fs.readFileSync(cfg, "utf8");
  const p = spawn("script", ["-qfec", `stty rows 24 cols 100; exec node tools/menuconfig.mjs --config ${cfg}`, "/dev/null"], { cwd: ROOT, env: { ...process.env, TERM: "xterm-256color" } });
  procs.add(p);
  const closed = new Promise((r) => p.on("close", r));
  let out = "";
  p.stdout.on("data", (d) => { out += d; });
  const step = async (k: string) => { await new Promise((r) => setTimeout(r, 400)); p.stdin.write(k); };
  // Keys go in only once the menu is drawn: a slow start must not see them before it grabs the keyboard.
  await until(() => out.includes("S save and quit"), "the menu is drawn");
  for (let i = 0; i < 5; i++) await step("\x1b[B"); // past transport, security, PoP mode, PoP, prefix
  await step("\r"); // toggle reset-on-boot
  await step("q"); await step("y");
  await closed;
  assert.match(out, /quit without saving your changes\? \(y\/n\)/);
  assert.match(out, /not saved/);
  assert.equal(fs.readFileSync(cfg, "utf8"), before);
});

test("menuconfig --set / --list for scripts, with clear errors", async () => {
  const cfg = configFile("sdkconfig.set");
  let r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "PROV_POP=s3cret pop", "--set", "CONFIG_LOG_LEVEL=debug", "--list"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /CONFIG_PROV_POP="s3cret pop"/);
  assert.match(r.out, /CONFIG_LOG_LEVEL="debug"\s+\[none\|error\|warn\|info\|debug\]/);
  assert.match(r.out, /CONFIG_PROV_VERSION_STRING="V0.1".*not used unless PROV_VERSION_STYLE!=json/);
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "PROV_SECURTY_VERSION=0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown option PROV_SECURTY_VERSION \(did you mean PROV_SECURITY_VERSION\?/);
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "PROV_AUTOSTOP_S=1000"]);
  assert.match(r.err, /CONFIG_PROV_AUTOSTOP_S=1000 is out of range: must be an integer from 5 to 600/);
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg], { input: "" });
  assert.equal(r.code, 2);
  assert.match(r.err, /the menu needs a terminal; in scripts use --set KEY=VALUE or --list/);
  assert.match(fs.readFileSync(cfg, "utf8"), /CONFIG_PROV_POP="s3cret pop"/, "failed --set changed nothing");

  // Refusals in words: no regex, and no call for quotes the user never had to type.
  for (const [set, re] of [
    ["PROV_SOFTAP_PASSWORD=short", /--set CONFIG_PROV_SOFTAP_PASSWORD=short must be empty \(an open network\) or 8 to 63 printable ASCII characters$/],
    ["PROV_DEVICE_PREFIX=my prefix!", /--set CONFIG_PROV_DEVICE_PREFIX=my prefix! must be letters, digits, _ and -, at most 16 characters$/],
    ["PROV_POP=pöp", /--set CONFIG_PROV_POP=pöp must be printable ASCII text/],
  ] as const) {
    r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", set]);
    assert.equal(r.code, 1, set);
    assert.match(r.err.trim(), re);
    assert.doesNotMatch(r.err, /[\^$]|\{\d|quoted|\[ -~\]/, `${set}: ${r.err}`);
  }

  // A typo in the file: --list flags it, --set of another option saves and says the typo remains (the line kept
  // as it was), --set of that very option repairs it.
  fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replace(/^CONFIG_PROV_AUTOSTOP_S=30$/m, "CONFIG_PROV_AUTOSTOP_S=3O"));
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--list"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^CONFIG_PROV_AUTOSTOP_S=3O\s.*✗ .*:\d+: CONFIG_PROV_AUTOSTOP_S=3O is not an integer from 5 to 600$/m);
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "LOG_LEVEL=warn"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err.trim(), /^menuconfig: still wrong: .*CONFIG_PROV_AUTOSTOP_S=3O is not an integer from 5 to 600 \(fix: npm run menuconfig -- --set PROV_AUTOSTOP_S=VALUE\)$/);
  assert.match(fs.readFileSync(cfg, "utf8"), /^CONFIG_PROV_AUTOSTOP_S=3O$/m);
  assert.match(fs.readFileSync(cfg, "utf8"), /^CONFIG_LOG_LEVEL="warn"$/m);
  r = await run("node", ["tools/menuconfig.mjs", "--config", cfg, "--set", "PROV_AUTOSTOP_S=45"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "");
  assert.equal(readConfig(cfg).PROV_AUTOSTOP_S, 45);
});

test("flash over TCP with the real espruino CLI: blank simulated board → upload → verify → reboot → monitor shows the boot → provision → flash --erase wipes the saved credentials", { timeout: 180_000 }, async () => {
  const s = await sim(["--blank"]);
  const saved = () => Object.keys(JSON.parse(fs.readFileSync(s.flash, "utf8"))).filter((k) => k.startsWith("prov.cred")).sort();
  try {
    const r = await flash("--port", s.port);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /board: ESP32, Espruino 2v29, BLE and crypto present; bundle [\d,]+ B fits/);
    assert.match(r.out, /\+ node_modules\/\.bin\/espruino --no-ble -q --board dist\/flash\/esp32\.board\.json -p tcp:\/\/127\.0\.0\.1:\d+ -b 115200 --storage \.boot0:dist\/flash\/esp32\.js/);
    assert.match(r.out, /verified: \.boot0 on the board is [\d,]+ bytes, CRC32 [0-9a-f]{8}, same as dist\/flash\/esp32\.js/);
    // The web page goes up next to it and is checked the same way (length + CRC32).
    assert.match(r.out, /verified: portal\.html\.gz on the board is [\d,]+ bytes, CRC32 [0-9a-f]{8}, same as dist\/portal\.html\.gz/);
    // Offline (as CI is) the CLI must not look the board up on www.espruino.com: no network error, no warning box.
    assert.doesNotMatch(r.out + r.err, /ENOTFOUND|getURL|No list of built-in modules/);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(ROOT, "dist/flash/esp32.board.json"), "utf8")).info.builtin_modules.includes("crypto"), true);
    // The monitor reboots the board on connect (as idf.py monitor resets the chip) and shows the boot.
    const boot = await run("node", ["tools/monitor.mjs", "--port", s.port], { input: "", thenInput: [/SoftAP Provisioning started with SSID 'PROV_261FCC'/, "\x1d"], timeoutMs: 60_000 });
    assert.equal(boot.code, 0, boot.out + boot.err);
    assert.match(boot.err, /--- monitor on tcp:\/\/127\.0\.0\.1:\d+ at 115200 baud --- Quit: Ctrl\+\] ---/);
    // The default build provisions over SoftAP: after the flash its first boot turned BLE off (a reboot that
    // keeps .boot0); from then on it boots with BLE off straight into the AP.
    assert.match(s.log(), /app: SoftAP provisioning: turning BLE off[\s\S]*Erasing saved code\.[\s\S]*rst:0xc/);
    assert.match(boot.out, /rst:0xc \(SW_CPU_RESET\)[\s\S]*WARNING: Bluetooth is disabled per ESP32\.enableBLE\(false\)[\s\S]*I \(\d+\) app: Starting SoftAP provisioning[\s\S]*SoftAP Provisioning started with SSID 'PROV_261FCC'/);
    const stored = JSON.parse(fs.readFileSync(s.flash, "utf8"));
    assert.equal(Buffer.from(stored[".boot0"], "base64").toString("latin1"), fs.readFileSync(path.join(ROOT, "dist/flash/esp32.js"), "latin1"));
    assert.deepEqual(Buffer.from(stored["portal.html.gz"], "base64"), fs.readFileSync(path.join(ROOT, "dist/portal.html.gz")));
    // Typing at the REPL through the monitor, then Ctrl-].
    const live = await run("node", ["tools/monitor.mjs", "--port", s.port, "--no-reset"], { input: "print('hello from' + ' the REPL')\n", thenInput: [/hello from the REPL/, "\x1d"], timeoutMs: 60_000 });
    assert.equal(live.code, 0, live.err);
    assert.match(live.out, /hello from the REPL/);
    assert.doesNotMatch(live.out, /rst:0xc/, "--no-reset leaves the board running");
    assert.match(live.err, /--- exit ---/);

    // Provision it (credentials land in Storage), then flash --erase must wipe them and restart provisioning.
    for (let i = 0; i < 100 && !/SoftAP started/.test(s.log()); i++) await new Promise((res) => setTimeout(res, 100));
    const p = await run(process.execPath, ["--import", "tsx", "test-host/client/prov-cli.ts", "--service_name", `127.0.0.1:${s.httpPort}`, "--pop", logPop(s.log()), "--ssid", "myssid", "--passphrase", "mypassword", "--poll_interval", "0.5"]);
    assert.equal(p.code, 0, p.out + p.err);
    assert.deepEqual(CREDENTIAL_FILES, SLOTS, "flash --erase names the firmware's credential files");
    assert.ok(saved().length > 0, "credentials saved to flash");
    const booted = s.log().length;
    const e = await flash("--port", s.port, "--erase");
    assert.equal(e.code, 0, e.out + e.err);
    assert.match(e.out, /erased saved Wi-Fi credentials \(prov\.cred\.a, prov\.cred\.b\)/);
    assert.deepEqual(saved(), [], "no credential file left in the board's Storage");
    for (let i = 0; i < 100 && !/SoftAP Provisioning started/.test(s.log().slice(booted)); i++) await new Promise((res) => setTimeout(res, 100));
    assert.match(s.log().slice(booted), /SoftAP Provisioning started with SSID 'PROV_261FCC'/, "reboots into provisioning");
  } finally {
    s.stop();
  }
});

test("npm run flash keeps the user's .bootcde (through the BLE-off reboot) and the board's PoP; --erase-pop draws a new one; npm run label prints name, PoP and QR code", { timeout: 240_000 }, async () => {
  // A build with the shipped default, a random PoP per board (the tests' SoftAP config names a fixed one).
  const randomCfg = path.join(tmp, "random-pop.sdkconfig");
  fs.writeFileSync(randomCfg, 'CONFIG_PROV_POP_MODE="random"\n');
  const flashRandom = (...args: string[]) => run("bash", ["flash.sh", "--config", randomCfg, ...args]);
  const program = 'console.log("user program running on " + prov.name);';
  const s = await sim(["--blank", "--mac", "aa:bb:cc:dd:ee:01"], { ".bootcde": program });
  const waitLog = async (re: RegExp, from: number) => { for (let i = 0; i < 300 && !re.test(s.log().slice(from)); i++) await new Promise((res) => setTimeout(res, 100)); assert.match(s.log().slice(from), re); };
  try {
    let r = await flashRandom("--port", s.port);
    assert.equal(r.code, 0, r.out + r.err);
    await waitLog(/SoftAP started[\s\S]*/, 0);
    await waitLog(/Erasing saved code\.[\s\S]*User program \.bootcde restored[\s\S]*user program running on PROV_DDEE01/, 0);
    const pop = logPop(s.log());
    assert.match(pop, /^[a-z0-9]{10}$/);
    // The label, read from the board over its console.
    const svg = path.join(tmp, "label.svg");
    r = await run("node", ["tools/label.mjs", "--port", s.port, "--config", randomCfg, "--out", svg]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.out.trim(), `label: PROV_DDEE01, PoP ${pop} → ${svg}`);
    const text = fs.readFileSync(svg, "utf8");
    assert.match(text, /<text[^>]*>PROV_DDEE01<\/text>/);
    assert.match(text, new RegExp(`<text[^>]*>PoP: ${pop}</text>`));
    const payload = labelPayload("PROV_DDEE01", pop, readConfig(randomCfg));
    assert.equal(text, labelSvg(payload, "PROV_DDEE01", pop));
    assert.equal(JSON.parse(payload).pop, pop);
    // Flash again: same PoP, program still there and running.
    let from = s.log().length;
    r = await flashRandom("--port", s.port);
    assert.equal(r.code, 0, r.out + r.err);
    await waitLog(/QR payload[\s\S]*user program running on PROV_DDEE01/, from);
    assert.equal(logPop(s.log().slice(from)), pop, "a re-flash keeps the PoP on the label");
    // --erase-pop: a new one.
    from = s.log().length;
    r = await flashRandom("--port", s.port, "--erase-pop");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /erased the board's PoP/);
    await waitLog(/QR payload[\s\S]*user program running on PROV_DDEE01/, from);
    assert.notEqual(logPop(s.log().slice(from)), pop);
  } finally {
    s.stop();
  }
  const bad = await run("node", ["tools/label.mjs", "--port", "tcp://127.0.0.1:9"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^label: cannot connect to tcp:\/\/127\.0\.0\.1:9: ECONNREFUSED/);
  assert.equal(bad.err.trim().split("\n").length, 1);
});

test("flash refuses bad input with a clear message and a non-zero exit", { timeout: 360_000 }, async () => {
  let r = await flash();
  assert.equal(r.code, 2);
  assert.match(r.err, /flash: --port is required/);
  r = await flash("--port", "/dev/ttyNOPE0");
  assert.equal(r.code, 1);
  assert.match(r.err, /flash: port \/dev\/ttyNOPE0 does not exist: is the board plugged in\?/);
  r = await flash("--port", "/dev/ttyUSB0", "--speed", "9600");
  assert.match(r.err, /flash: unknown argument '--speed'/);
  const dry = await flash("--port", "/dev/ttyUSB0", "--erase", "--dry-run");
  assert.equal(dry.code, 0, dry.err);
  assert.deepEqual(dry.out.trim().split("\n").map((l) => l.split(" ").slice(0, 3).join(" ")),
    ["+ node tools/build.mjs", "+ node tools/build-page.mjs", "+ node tools/board.mjs", "+ node_modules/.bin/espruino --no-ble",
      "+ node_modules/.bin/espruino --no-ble", "+ node tools/board.mjs", "+ node tools/board.mjs"]);
  assert.match(dry.out, /--storage portal\.html\.gz:dist\/portal\.html\.gz/);
  assert.match(dry.out, /verify .* --bundle dist\/portal\.html\.gz --file portal\.html\.gz$/m);
  assert.match(dry.out, /finish .* --erase$/m);

  // Nothing listening, and something listening that is not Espruino.
  r = await flash("--port", "tcp://127.0.0.1:9");
  assert.equal(r.code, 1);
  assert.match(r.err, /flash: cannot connect to tcp:\/\/127\.0\.0\.1:9: ECONNREFUSED/);
  const http = net.createServer((c) => c.on("data", () => c.write("HTTP/1.1 400 Bad Request\r\n\r\n"))).listen(0, "127.0.0.1");
  await new Promise((res) => http.once("listening", res));
  r = await flash("--port", `tcp://127.0.0.1:${(http.address() as net.AddressInfo).port}`);
  http.close();
  assert.equal(r.code, 1);
  assert.match(r.err, /does not answer like an Espruino REPL \(no '>' prompt within 6 s; got "HTTP\/1\.1 400/);

  // Boards whose Espruino build does not fit: each is read from process.env before anything is written. An
  // Espruino without Bluetooth only for a build that uses BLE (the SoftAP build never does: below).
  const cases: [string[], RegExp, string?][] = [
    [["--espruino-version", "2v19"], /the board runs Espruino 2v19; this firmware needs 2v29 or newer/],
    [["--without", "ble"], /this Espruino build \(2v29\) has no Bluetooth \(NRF is undefined\), which PROV_TRANSPORT ble\/both needs/, "test-host/configs/ble.sdkconfig"],
    [["--without", "crypto"], /lacks the crypto module that Security 1 needs/],
    [["--storage-bytes", "16384"], /the bundle is [\d,]+ bytes but the board's Storage has [\d,]+ bytes free/],
  ];
  // The board file's budget (boards/esp32.json bundleBudget 65,536 B), with a bundle that exceeds it.
  const big = path.join(tmp, "big.js");
  fs.writeFileSync(big, "x".repeat(70_000));
  const s0 = await sim(["--blank"]);
  try {
    const b = await run("node", ["tools/board.mjs", "check", "--port", s0.port, "--board", "esp32", "--bundle", big]);
    assert.equal(b.code, 1);
    assert.match(b.err, /flash: the bundle is 70,000 bytes, larger than the esp32 budget of 65,536 bytes \(boards\/esp32\.json bundleBudget\)/);
  } finally {
    s0.stop();
  }
  // One at a time: four builds and boards at once on a 2-core CI runner can miss the 6 s prompt wait.
  for (const [args, msg, config] of cases) {
    const s = await sim(["--blank", ...args]);
    try {
      const f = await flash("--port", s.port, ...(config ? ["--config", config] : []));
      assert.equal(f.code, 1, `${args.join(" ")}: ${f.out}${f.err}`);
      assert.match(f.err, msg);
      assert.doesNotMatch(f.out, /espruino --no-ble/, "nothing uploaded");
      assert.equal(JSON.parse(fs.existsSync(s.flash) ? fs.readFileSync(s.flash, "utf8") : "{}")[".boot0"], undefined);
    } finally {
      s.stop();
    }
  }
});

test("flash: the SoftAP build goes onto an Espruino built without Bluetooth, and provisions there", { timeout: 120_000 }, async () => {
  const s = await sim(["--blank", "--without", "ble"]);
  try {
    const f = await flash("--port", s.port);
    assert.equal(f.code, 0, f.out + f.err);
    assert.match(f.out, /board: ESP32, Espruino 2v29, crypto present, no BLE \(this SoftAP build does not use it\); bundle/);
    await until(() => /SoftAP started at 192\.168\.4\.1/.test(s.log()), "the AP comes up", 60_000);
    assert.doesNotMatch(s.log(), /turning BLE off/, "no BLE to turn off: no reboot for it");
    const p = await run(process.execPath, ["--import", "tsx", "test-host/client/prov-cli.ts", "--service_name", `127.0.0.1:${s.httpPort}`, "--pop", "abcd1234", "--ssid", "myssid", "--passphrase", "mypassword", "--poll_interval", "0.5"]);
    assert.equal(p.code, 0, p.out + p.err);
  } finally {
    s.stop();
  }
});

test("monitor colours ESP-IDF lines by level, also when a line arrives in pieces", async () => {
  let out = "";
  const c = colorizer((t: string) => { out += t; });
  c("I (500) app: Starting\r\nW (5"); c("01) wifi: slow\r\nE (502) x: bad\r\nD (503) y: z\r\n>");
  assert.equal(out, "\x1b[0;32mI (500) app: Starting\x1b[0m\r\n\x1b[0;33mW (501) wifi: slow\x1b[0m\r\n\x1b[0;31mE (502) x: bad\x1b[0m\r\nD (503) y: z\r\n>");
});

test("monitor: missing port and unknown arguments", async () => {
  let r = await run("node", ["tools/monitor.mjs"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /monitor: --port is required/);
  r = await run("node", ["tools/monitor.mjs", "--port", "/dev/ttyNOPE0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /monitor: port \/dev\/ttyNOPE0 does not exist/);
});
