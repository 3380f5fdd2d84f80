// The product layer (issue 26): the application API (global.prov) and its events, the user's program kept across
// the firmware's own ESP32.enableBLE() reboots (power-cut safe), a random PoP per board, the factory reset
// button, and life after provisioning (retries with backoff, SoftAP fallback and recovery, damaged records).
// The bundles are built here from their own configurations, not from the root sdkconfig.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { build } from "../../tools/build.mjs";
import { POP_FILES } from "../../tools/board.mjs";
import { SimDevice, loadBundle } from "../sim/device";
import { SimFlash, PowerCut, HEADER_BYTES } from "../sim/storage";
import { simCommand } from "../sim/commands";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { provision, ProvOptions } from "../client/esp-prov";
import { keep, restore, KEEP_RECORD } from "../../src/core/keep";
import { POP_SLOTS } from "../../src/prov/pop";
import { BLE_BUNDLE, WORLD, boardPop, provisionSim } from "./helpers";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-"));
const B = { softap: path.join(tmp, "softap.js"), fixed: path.join(tmp, "fixed.js"), rssi: path.join(tmp, "rssi.js") };
before(async () => {
  const cfg = (name: string, text: string) => { const f = path.join(tmp, name + ".sdkconfig"); fs.writeFileSync(f, text); return f; };
  // Defaults (random PoP, reset button GPIO0 held 5 s) plus the SoftAP fallback after 30 s.
  const softap = cfg("softap", 'CONFIG_PROV_TRANSPORT="softap"\nCONFIG_PROV_STA_FALLBACK_S=30\n');
  await build({ config: softap, out: B.softap });
  await build({ config: cfg("fixed", 'CONFIG_PROV_POP_MODE="fixed"\nCONFIG_PROV_POP="devpop12"\nCONFIG_PROV_RESET_GPIO=-1\n'), out: B.fixed });
  await build({ config: softap, out: B.rssi, app: "src/app/examples/rssi.ts" });
});

/** The program a user saves from the Web IDE (.bootcde): records every prov event it hears. */
const LISTENER = 'var seen=[];["start","cred-recv","cred-fail","cred-success","end","connected","disconnected"].forEach(function(ev){' +
  'prov.on(ev,function(e){seen.push(ev+" "+JSON.stringify(e));});});console.log("user program running on "+prov.name);';

function board(bundle: string, o: { mac?: string; program?: string; world?: typeof WORLD } = {}) {
  const d = new SimDevice({ world: o.world || WORLD, slowdown: 0.05, mac: o.mac });
  d.install(loadBundle(bundle));
  if (o.program) d.install(o.program, ".bootcde");
  d.boot();
  return d;
}
const apUp = (d: SimDevice) => assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 30000), d.lines().join("\n"));
const provAp = (d: SimDevice, o: Partial<ProvOptions> = {}) =>
  provision(httpTransport(simHttpSend(d)), { ssid: "myssid", passphrase: "mypassword", pop: boardPop(d), sleep: async (ms) => d.run(ms), ...o });
const seen = (d: SimDevice): string[] => [...(d.ctx.seen as string[])];
const noUncaught = (d: SimDevice) => assert.deepEqual(d.lines().filter((l) => /Uncaught/.test(l)), []);
const count = (d: SimDevice, re: RegExp) => d.lines().filter((l) => re.test(l)).length;

test("keep/restore: a power cut at any byte of the copy or of the restore leaves the old or the restored program, never a torn one", () => {
  const PROGRAM = "console.log('mine');".repeat(5);
  const kvOf = (f: SimFlash) => ({
    read: (k: string) => (f.files.has(k) ? Buffer.from(f.files.get(k)!).toString("latin1") : undefined),
    write: (k: string, v: string) => f.writeFile(k, Buffer.from(v, "latin1")),
    erase: (k: string) => void f.files.delete(k),
  });
  const crc = (s: string) => zlib.crc32(Buffer.from(s, "latin1"));
  let cases = 0;
  // Cut during keep (copy + record), then enableBLE's erase may or may not have happened, then boot restores.
  for (let cut = 0; cut <= 2 * (1 + HEADER_BYTES + PROGRAM.length) + 60; cut++) {
    for (const erased of [false, true]) {
      const f = new SimFlash(), kv = kvOf(f);
      f.writeFile(".bootcde", Buffer.from(PROGRAM));
      f.cutAfter(cut);
      let kept = false;
      try { kept = keep({ kv, crc }); } catch (e) { assert.ok(e instanceof PowerCut); }
      if (kept === false && f.files.has(".bootcde") && !erased) { /* cut before the erase: the program is untouched */ }
      // keep() returned only if no cut hit it; the firmware erases only after keep() returned.
      if (erased && kept) for (const n of [".bootcde", ".bootrst", ".varimg"]) f.files.delete(n);
      restore({ kv, crc });
      assert.equal(kv.read(".bootcde"), PROGRAM, `cut ${cut}${erased ? " then erased" : ""}`);
      assert.deepEqual([...f.files.keys()].filter((k) => k.startsWith(KEEP_RECORD)), [], "no copy left after the boot");
      cases++;
    }
  }
  // Cut at any byte of the restore itself: the next boot restores again.
  for (let cut = 0; cut <= 1 + HEADER_BYTES + PROGRAM.length; cut++) {
    const f = new SimFlash(), kv = kvOf(f);
    f.writeFile(".bootrst", Buffer.from(PROGRAM));
    assert.equal(keep({ kv, crc }), true);
    f.files.delete(".bootrst");
    f.cutAfter(cut);
    try { restore({ kv, crc }); } catch (e) { assert.ok(e instanceof PowerCut); }
    restore({ kv, crc });
    assert.equal(kv.read(".bootrst"), PROGRAM, `restore cut at ${cut}`);
    cases++;
  }
  // A program the user erased himself (no record) is not brought back; Storage refusing the copy is reported.
  const f = new SimFlash(), kv = kvOf(f);
  assert.deepEqual(restore({ kv, crc }), []);
  assert.equal(keep({ kv: { ...kv, read: () => PROGRAM, write: () => { throw new Error("Storage is full"); } }, crc }), false);
  assert.ok(cases > 500);
});

test("the app API: a .bootcde listener survives the BLE-off reboot and hears start, cred-recv, cred-fail, cred-success, connected, end; connected again at every boot", async () => {
  const d = board(B.softap, { program: LISTENER });
  apUp(d);
  noUncaught(d);
  assert.ok(d.lines().some((l) => /Erasing saved code\./.test(l)), "the first boot turned BLE off (which erases .bootcde)");
  assert.ok(d.lines().some((l) => /app: User program \.bootcde restored after the firmware's BLE switch/.test(l)));
  assert.ok(d.lines().some((l) => l === "user program running on PROV_261FCC"));
  assert.equal(d.evaluate("prov.name"), "PROV_261FCC");
  assert.equal(d.evaluate("prov.provisioning"), true);
  assert.equal((await provAp(d, { passphrase: "wrongpass" })).ok, false);
  const r = await provAp(d);
  assert.equal(r.ok, true);
  d.run(40000); // auto-stop
  assert.deepEqual(seen(d), [
    'start {"name":"PROV_261FCC","transport":"softap"}',
    'cred-recv {"ssid":"myssid"}',
    'cred-fail {"reason":"auth-error","code":202}',
    'cred-recv {"ssid":"myssid"}',
    'cred-success {"ssid":"myssid","ip":"192.168.43.220"}',
    'connected {"ssid":"myssid","ip":"192.168.43.220"}',
    "end {}",
  ]);
  assert.equal(d.evaluate("prov.state"), "connected");
  assert.equal(d.evaluate("prov.provisioning"), false);
  // Power cycle: no provisioning, the station's events only; then the network goes off air.
  d.boot();
  d.run(10000);
  assert.deepEqual(seen(d), ['connected {"ssid":"myssid","ip":"192.168.43.220"}']);
  d.wifi.changeAp("myssid", "remove");
  d.run(8000);
  assert.deepEqual(seen(d).slice(1, 3), ['disconnected {"ssid":"myssid","code":200}', 'disconnected {"ssid":"myssid","code":201}']);
  assert.equal(d.evaluate("prov.state"), "disconnected");
  noUncaught(d);
});

test("the example apps log the RSSI once online and every minute: examples/rssi-logger.js from the Web IDE and src/app/examples/rssi.ts built in", async () => {
  const ide = board(B.softap, { program: fs.readFileSync("examples/rssi-logger.js", "latin1") });
  const ts = board(B.rssi);
  for (const d of [ide, ts]) {
    apUp(d);
    assert.equal((await provAp(d)).ok, true);
    d.run(130000);
    assert.ok(d.lines().some((l) => l === "[app] online at 192.168.43.220 (myssid)"), d.lines().join("\n"));
    assert.equal(count(d, /^\[app\] RSSI -50 dBm on PROV_261FCC$/), 3, "at once, then after 1 and 2 minutes");
    noUncaught(d);
  }
});

test("reprovision(), the factory reset button and the BLE teardown keep the user's program (and the PoP)", async () => {
  // SoftAP build: reprovision() reboots without a BLE switch; the long press erases the network only.
  const d = board(B.softap, { program: LISTENER });
  apUp(d);
  const pop = boardPop(d);
  assert.equal((await provAp(d)).ok, true);
  d.run(40000);
  d.evaluate("reprovision()");
  apUp(d);
  assert.equal(d.flash.files.has(".bootcde"), true);
  assert.equal(boardPop(d), pop, "reprovisioning keeps the PoP");
  assert.equal((await provAp(d)).ok, true);
  d.run(40000);
  // A short press (1 s, with contact bounces) does nothing; a 6 s hold erases the network and reboots into provisioning.
  d.press(0, 1000);
  d.run(3000);
  assert.ok(d.lines().some((l) => /app: Reset button GPIO0 released before 5 s: no reset/.test(l)));
  assert.equal(d.flash.files.has("prov.cred.a") || d.flash.files.has("prov.cred.b"), true, "short press: network kept");
  const boots = d.boots;
  d.press(0, 6000);
  d.run(7000);
  assert.ok(d.lines().some((l) => /W \(\d+\) app: Reset button GPIO0 held 5 s: factory reset/.test(l) || /app: Reset button GPIO0 held 5 s: factory reset/.test(l)));
  assert.ok(d.boots > boots, "rebooted");
  assert.ok(d.wifi.ap, "back in provisioning: the AP is up");
  assert.equal(d.flash.files.has("prov.cred.a") || d.flash.files.has("prov.cred.b"), false, "network erased");
  assert.equal(boardPop(d), pop, "PoP kept");
  assert.ok(seen(d)[0]!.startsWith("start "), "the user's program runs again and hears provisioning start");
  noUncaught(d);

  // BLE build: provisioning ends with ESP32.enableBLE(false) (erases .bootcde), reprovision() with enableBLE(true).
  const b = new SimDevice({ world: WORLD, slowdown: 0.05 });
  b.install(loadBundle(BLE_BUNDLE));
  b.install(LISTENER, ".bootcde");
  b.boot();
  b.run(5000);
  assert.equal((await provisionSim(b)).ok, true);
  b.run(40000);
  assert.equal(b.nvs.ble, false, "BLE freed after provisioning");
  assert.deepEqual(seen(b), ['connected {"ssid":"myssid","ip":"192.168.43.220"}'], "the program ran after the teardown reboot");
  b.evaluate("prov.reprovision()");
  b.run(5000);
  assert.equal(b.nvs.ble, true);
  assert.equal(b.flash.files.has(".bootcde"), true);
  assert.ok(seen(b)[0]!.startsWith('start {"name":"PROV_261FCC","transport":"ble"}'));
  noUncaught(b);
});

test("a PoP of its own per board: random from the RNG register, kept across reboot and re-flash, replaced only on request; fixed mode for development", async () => {
  const a = board(B.softap), b = board(B.softap, { mac: "aa:bb:cc:dd:ee:ff" });
  apUp(a);
  apUp(b);
  assert.equal(b.evaluate("prov.name"), "PROV_DDEEFF");
  const pa = boardPop(a), pb = boardPop(b);
  assert.match(pa, /^[a-z0-9]{10}$/);
  assert.match(pb, /^[a-z0-9]{10}$/);
  assert.notEqual(pa, pb, "two boards, two PoPs");
  assert.ok(a.rngReads > 0 && a.insecureRandomCalls === 0, "drawn from the RNG register, never Math.random/E.hwRand");
  assert.deepEqual(POP_FILES, POP_SLOTS, "flash --erase-pop names the firmware's PoP files");
  assert.ok(a.lines().some((l) => l.includes(`"pop":"${pa}"`)), "the QR payload carries it");
  // Reboot, then a re-flash with other firmware (what npm run flash writes: .boot0 only): the same PoP.
  a.boot();
  apUp(a);
  assert.equal(boardPop(a), pa);
  a.install(loadBundle(B.rssi));
  a.boot();
  apUp(a);
  assert.equal(boardPop(a), pa, "kept across a re-flash");
  assert.equal((await provAp(a, { pop: pa })).ok, true);
  // Replaced only on request (the REPL call; flash --erase-pop erases the files, covered in the CLI test).
  const np = String(a.evaluate("prov.newPop()"));
  assert.match(np, /^[a-z0-9]{10}$/);
  assert.notEqual(np, pa);
  a.evaluate("reprovision()");
  apUp(a);
  assert.equal(boardPop(a), np);
  // A board whose BLE is already off and that has no PoP yet draws it once its AP is up, then reboots to serve it.
  const c = board(B.softap);
  apUp(c);
  for (const f of POP_SLOTS) c.flash.files.delete(f);
  c.boot();
  assert.ok(c.waitFor(/Proof of possession drawn; rebooting to serve it/, 10000));
  const i = c.lines().findIndex((l) => /Proof of possession drawn/.test(l));
  assert.ok(/SoftAP started/.test(c.lines()[i - 1]!), "drawn after the AP is up (the RNG is entropic only with the radio on)");
  apUp(c);
  assert.match(boardPop(c), /^[a-z0-9]{10}$/);
  // fixed: CONFIG_PROV_POP, nothing stored.
  const f = board(B.fixed);
  apUp(f);
  assert.equal(boardPop(f), "devpop12");
  assert.equal(POP_SLOTS.some((s) => f.flash.files.has(s)), false);
  assert.equal((await provAp(f, { pop: "devpop12" })).ok, true);
  for (const d of [a, b, c, f]) noUncaught(d);
});

test("life after provisioning: retries with backoff and reasons, SoftAP fallback after 30 s, closed when the network returns; new credentials in the fallback", async () => {
  const d = board(B.softap, { program: LISTENER });
  apUp(d);
  assert.equal((await provAp(d)).ok, true);
  d.run(40000);
  d.wifi.changeAp("myssid", { password: "newpassword" });
  d.run(20000);
  const retries = d.lines().filter((l) => /app_prov: Retrying in/.test(l)).map((l) => /in ([\d.]+) s/.exec(l)![1]);
  assert.deepEqual(retries.slice(0, 3), ["1", "2", "4"], "the delay doubles");
  assert.ok(d.lines().some((l) => /Disconnect reason : 202/.test(l)), "each reason logged");
  const boots = d.boots;
  d.run(20000);
  assert.ok(d.lines().some((l) => /app: No connection for 30 s: rebooting to open provisioning on the SoftAP/.test(l)));
  assert.ok(d.boots > boots);
  assert.ok(d.wifi.ap, "the fallback's AP is up");
  assert.ok(d.lines().some((l) => /Fallback: provisioning on the SoftAP while the station retries/.test(l)));
  assert.equal(d.evaluate("prov.provisioning"), true);
  d.run(5000);
  assert.ok(d.wifi.connects.length > 0 && d.wifi.ap, "the station retries while the AP serves");
  // The old network comes back (its password restored): provisioning closes, the station stays.
  d.wifi.changeAp("myssid", { password: "mypassword" });
  d.run(70000);
  assert.ok(d.lines().some((l) => /app_prov: Provisioning stopped/.test(l)));
  assert.equal(d.wifi.ap, undefined, "AP down");
  assert.equal(d.evaluate("prov.state"), "connected");
  assert.deepEqual(seen(d).slice(-2), ['connected {"ssid":"myssid","ip":"192.168.43.220"}', "end {}"]);

  // Second time: the network is gone for good; the fallback provisions a new one.
  d.wifi.changeAp("myssid", "remove");
  d.wifi.changeAp("othernet", { add: { ssid: "othernet", password: "otherpass1", ip: "10.0.0.7" } });
  d.run(45000);
  assert.ok(d.wifi.ap, "fallback again");
  const r = await provAp(d, { ssid: "othernet", passphrase: "otherpass1" });
  assert.equal(r.ok, true);
  assert.equal(r.ip, "10.0.0.7");
  d.run(40000);
  d.boot();
  d.run(10000);
  assert.deepEqual(seen(d), ['connected {"ssid":"othernet","ip":"10.0.0.7"}']);
  noUncaught(d);
});

test("a damaged credentials record is logged and leads to provisioning, not a crash loop", () => {
  const d = board(B.softap);
  apUp(d);
  d.flash.writeFile("prov.cred.a", Buffer.from("1,6d7973736964,zz,00000000"));
  d.flash.writeFile("prov.cred.b", Buffer.from([0xff, 0xff, 0x2c, 0x31]));
  const boots = d.boots;
  d.boot();
  apUp(d);
  assert.ok(d.lines().some((l) => /E \(\d+\) app: Saved Wi-Fi credentials are damaged \(CRC mismatch\): starting provisioning/.test(l)));
  d.run(20000);
  assert.equal(d.boots, boots + 1, "no reboot loop");
  noUncaught(d);
});

test("simulator world commands: button presses and access points that change, vanish and appear", () => {
  const d = board(B.softap);
  apUp(d);
  assert.equal(simCommand(d, "button 1"), "GPIO0 held low for 1 s");
  d.run(2000);
  assert.ok(d.lines().some((l) => /Reset button GPIO0 released before 5 s/.test(l)));
  assert.equal(simCommand(d, "ap myssid password secret123"), "myssid now has password secret123");
  assert.equal(d.world.aps[0]!.password, "secret123");
  assert.equal(simCommand(d, "ap myssid remove"), "myssid is off air");
  assert.equal(simCommand(d, "ap newnet add pass12345"), "newnet is on air with password pass12345");
  assert.deepEqual(d.world.aps.map((a) => a.ssid), ["newnet"]);
  assert.throws(() => simCommand(d, "ap nonet remove"), /no access point 'nonet'/);
  assert.throws(() => simCommand(d, "jump"), /unknown command 'jump'/);
  assert.throws(() => simCommand(d, "button 2 77"), /GPIO must be 0-39/);
});
