// npm run sim as a user meets it: the GATT mode of the board it names (and says so), every clashing port in one
// line, a signal death on Ctrl-C, BLE-off remembered across restarts (NVS), a stale bundle rebuilt before it is
// installed; and the REPL's reset() and save() as Espruino 2v29 runs them (src/jswrap_interactive.c, src/jsflash.c).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { SimDevice } from "../sim/device";
import { flashWith, node, oneLine, run, sim, tmp } from "./cli-harness";
import { SOFTAP_BUNDLE, scratchRepo, until } from "./helpers";

test("sim: the default GATT mode is stock 2v29's and the banner says so; Ctrl-C is a signal death", { timeout: 60_000 }, async () => {
  const s = await sim(["--flash", flashWith(SOFTAP_BUNDLE)]);
  await until(() => /Starting SoftAP provisioning/.test(s.out()), "booted", 30_000);
  assert.match(s.err(), /^sim: Espruino 2v29 on ESP32, GATT writes espruino-2v29 \(acknowledged before any JS runs/m);
  const closed = new Promise<[number | null, string | null]>((r) => s.proc.on("close", (c, sig) => r([c, sig])));
  s.proc.kill("SIGINT");
  const [code, signal] = await closed;
  assert.ok(signal === "SIGINT" || code === 130, `died of SIGINT, not exit ${code}`);
  assert.match(s.err(), /sim: stopped \(SIGINT\)/);
  const d = await sim(["--flash", flashWith(SOFTAP_BUNDLE), "--gatt", "deferred-write"]);
  assert.match(d.err(), /GATT writes deferred-write \(acknowledged once the firmware stored its reply: a patched Espruino/);
  d.stop();
});

test("sim: every clashing port is named in one line", async () => {
  const busy = await Promise.all([0, 1].map(async () => {
    const b = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => b.once("listening", r));
    return b;
  }));
  const [g, h] = busy.map((b) => (b.address() as net.AddressInfo).port);
  try {
    const flash = path.join(tmp, "clash.json");
    const r = await node("test-host/sim-cli.ts", "--flash", flash, "--gatt-port", String(g), "--http-port", String(h), "--console-port", "0");
    assert.equal(r.code, 1, r.err);
    oneLine(r, new RegExp(`^sim: ports ${g} \\(virtual BLE central\\) and ${h} \\(the board's HTTP server\\) are already in use, perhaps by another npm run sim: stop that or pass --gatt-port N and --http-port N`));
    assert.ok(!fs.existsSync(flash), "nothing booted");
  } finally {
    for (const b of busy) b.close();
  }
});

test("sim: BLE turned off by the firmware stays off across simulator restarts (NVS), so its BLE-off reboot happens once", { timeout: 120_000 }, async () => {
  const flash = flashWith(SOFTAP_BUNDLE);
  const first = await sim(["--flash", flash]);
  await until(() => /SoftAP Provisioning started/.test(first.out()), "AP up", 60_000);
  assert.match(first.out(), /turning BLE off[\s\S]*rst:0xc/);
  first.stop();
  assert.deepEqual(JSON.parse(fs.readFileSync(flash.replace(/\.json$/, ".nvs.json"), "utf8")), { bleStatus: 0 });
  const again = await sim(["--flash", flash]);
  try {
    await until(() => /SoftAP Provisioning started/.test(again.out()), "AP up after the restart", 60_000);
    assert.match(again.out(), /^WARNING: Bluetooth is disabled per ESP32\.enableBLE\(false\)/m);
    assert.doesNotMatch(again.out(), /turning BLE off|rst:0xc/, "no second BLE-off reboot");
  } finally {
    again.stop();
  }
});

test("sim: a bundle older than its config or sources is rebuilt before it is installed, and the log says why", { timeout: 180_000 }, async () => {
  // A copy of the repo (its own dist/, sdkconfig and .sim/), so the user's build and other tests are untouched.
  const repo = scratchRepo();
  const start = async (pop: string) => {
    const s = await sim(["--flash", ".sim/flash.json"], { cwd: repo });
    try {
      await until(() => new RegExp(`"pop":"${pop}"`).test(s.out()), `the payload names PoP ${pop}`, 60_000);
      return s.err();
    } finally {
      s.stop();
    }
  };
  let err = await start("abcd1234");
  assert.match(err, /^sim: dist\/firmware\.js is missing: rebuilding it \(npm run build -- --config sdkconfig\)$/m);
  assert.match(err, /^sim: installed dist\/firmware\.js as \.boot0 in \.sim\/flash\.json$/m);
  // The user changes the config (what npm run menuconfig -- --set does): the next start rebuilds and reinstalls.
  const cfg = path.join(repo, "sdkconfig");
  fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replace(/CONFIG_PROV_POP="abcd1234"/, 'CONFIG_PROV_POP="s3cret99"'));
  const later = new Date(Date.now() + 2000);
  fs.utimesSync(cfg, later, later);
  err = await start("s3cret99");
  assert.match(err, /^sim: sdkconfig is newer than dist\/firmware\.js: rebuilding it/m);
  assert.match(err, /installed dist\/firmware\.js as \.boot0 in \.sim\/flash\.json \(replacing an older build/);
  // Nothing changed: no rebuild, nothing installed.
  err = await start("s3cret99");
  assert.doesNotMatch(err, /rebuilding|installed/);
  // A config the build refuses: one line, exit 1, nothing booted.
  fs.appendFileSync(cfg, "CONFIG_PROV_AUTOSTOP_S=3O\n");
  const r = await run(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", "--flash", ".sim/flash.json", "--gatt-port", "0", "--http-port", "0"], { cwd: repo });
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^sim: the build failed: .*\(fix it, then npm run build; or start a blank board with --blank\)$/m);
});

test("REPL reset() re-runs the boot files but no saved code; save() as 2v29: refused over .bootcde, else .varimg restored at power-on; load(file)", () => {
  const d = new SimDevice({ slowdown: 0 });
  d.install("print('boot0 ran, x=' + (typeof x === 'undefined' ? 'unset' : x));");
  d.flash.writeFile(".bootcde", Buffer.from("print('bootcde ran')"));
  d.boot();
  d.run(1000);
  const since = (n: number) => d.lines().slice(n).join("\n");
  assert.match(since(0), /boot0 ran, x=unset\nbootcde ran/);
  // reset(): JSIS_TODO_RESET → jsiSemiInit(false) → jsfLoadBootCodeFromFlash(true): .boot0…3 and .bootrst, not .bootcde.
  let n = d.lines().length;
  d.evaluate("reset()");
  d.run(1000);
  assert.match(since(n), /boot0 ran, x=unset/);
  assert.doesNotMatch(since(n), /bootcde ran/);
  // save() refuses while the Web IDE's .bootcde exists (jswrap_interface_save, 2v29).
  assert.throws(() => d.evaluate("save()"), /Cannot save: \.bootcde file already exists\. Please remove it first\./);
  d.flash.files.delete(".bootcde");
  d.evaluate("var x = 42");
  n = d.lines().length;
  d.evaluate("save()");
  d.run(1000);
  assert.match(since(n), /Compacting Flash\.\.\.\nCalculating Size\.\.\.\nWriting\.\.\nCompressed \d+ bytes to \d+/);
  assert.ok(d.flash.files.has(".varimg"));
  // Power-on: the saved state first (jsfLoadStateFromFlash), then the boot files.
  n = d.lines().length;
  d.boot();
  d.run(1000);
  assert.match(since(n), /Loading \d+ bytes from flash\.\.\.\nboot0 ran, x=42/);
  // reset() loads no saved state; reset(true) erases it (jsfRemoveCodeFromFlash).
  n = d.lines().length;
  d.evaluate("reset()");
  d.run(1000);
  assert.match(since(n), /boot0 ran, x=unset/);
  // load(file), the Web IDE's "To Storage File": the boot files without saved state, then the file.
  d.flash.writeFile("myapp", Buffer.from("print('myapp ran')"));
  d.flash.writeFile(".bootcde", Buffer.from("print('bootcde ran')"));
  n = d.lines().length;
  d.evaluate("load('myapp')");
  d.run(1000);
  assert.match(since(n), /boot0 ran, x=unset\nmyapp ran/);
  assert.doesNotMatch(since(n), /bootcde ran/);
  d.evaluate("reset(true)");
  d.run(1000);
  assert.ok(![".varimg", ".bootcde"].some((f) => d.flash.files.has(f)));
  assert.match(d.lines().join("\n"), /Erasing saved code\.\nDone!/);
});
