// The simulator's Espruino models: the recorded probe outputs line for line, and each quirk pinned.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SimConsole } from "../sim/console";
import { SimDevice } from "../sim/device";
import { SimFlash, PowerCut, HEADER_BYTES } from "../sim/storage";
import { credentialStore } from "../../src/prov/credentials";
import { advertData, deviceName } from "../../src/transport/ble-gatt";

// Recorded in the real interpreter: test-host/fixtures/probes/README.md, docs/interpreter-measurements.md §3.
const PROBES = path.join(import.meta.dirname, "../fixtures/probes");

function runProbe(name: string): string[] {
  const d = new SimDevice({ slowdown: 0, eventMs: 0 });
  d.install(fs.readFileSync(`${PROBES}/${name}.js`, "latin1"));
  d.boot();
  d.run(1000);
  return d.lines();
}

for (const p of ["crypto", "storage", "timers", "timer-ids"]) {
  test(`probe ${p}.js prints what Espruino printed`, () => {
    const want = fs.readFileSync(`${PROBES}/${p}.expected`, "utf8").trimEnd().split("\n");
    assert.deepEqual(runProbe(p), want);
  });
}

test("BLE quirks: 61-byte onWrite, full value in E.internal, write acknowledged before JS (2v29)", () => {
  const d = new SimDevice({ gatt: "espruino-2v29", slowdown: 0, eventMs: 200 });
  d.install(`var seen=[];NRF.setServices({"0xFFFF":{"0xFF51":{value:[0],readable:true,writable:true,description:"prov-session-too-long",onWrite:function(e){seen.push(new Uint8Array(e.data).length, E.internal.BLE_CHAR_V0.length);NRF.updateServices({"0xFFFF":{"0xFF51":{value:"reply"}}});}}}},{uart:false});NRF.setAdvertising([2,1,6,4,9,65,66,67]);`);
  d.boot();
  d.run(100);
  d.ble.connect(185);
  assert.equal((d.ble.discover()[0]!.characteristics[0] as any).descriptors[0].value, "prov-session-to", "0x2901 holds 15 chars");
  const req = new Uint8Array(100).fill(7);
  d.ble.write("0000ff51-0000-1000-8000-00805f9b34fb", req);
  // The read reaches the device before the queued onWrite (200 ms) has finished: it returns the request bytes.
  assert.deepEqual(Array.from(d.ble.read("ff51")), Array.from(req));
  d.run(200);
  assert.deepEqual(Array.from(d.ctx.seen), [61, 100]);
  assert.equal(Buffer.from(d.ble.read("ff51")).toString(), "reply");
  assert.throws(() => d.ble.write("ff51", new Uint8Array(183)), /ATT PDU/, "no long writes");
  assert.throws(() => d.ctx.NRF.setScanResponse([1]), /FIXME/);
  assert.throws(() => d.ctx.NRF.setAdvertising(new Array(32).fill(1)), /31/);
});

test("deferred-write mode acknowledges only after the reply is stored", () => {
  const d = new SimDevice({ gatt: "deferred-write", slowdown: 0, eventMs: 500 });
  d.install(`NRF.setServices({"0xFFFF":{"0xFF51":{value:[0],readable:true,writable:true,onWrite:function(e){NRF.updateServices({"0xFFFF":{"0xFF51":{value:"ok"}}});}}}},{uart:false});NRF.setAdvertising([2,1,6]);`);
  d.boot();
  d.ble.connect(100);
  const t0 = d.sched.now;
  d.ble.write("ff51", Uint8Array.of(1, 2));
  assert.ok(d.sched.now - t0 >= 500, "write response waited for the JS handler");
  assert.equal(Buffer.from(d.ble.read("ff51")).toString(), "ok");
});

test("advert fits one 31-byte packet with name and 16-bit service UUID", () => {
  const name = deviceName("PROV_", Uint8Array.of(0x24, 0x0a, 0xc4, 0x26, 0x1f, 0xcc));
  assert.equal(name, "PROV_261FCC");
  assert.equal(Buffer.from(advertData(name)).toString("hex"), "0201060303ffff0c0950524f565f323631464343");
  assert.throws(() => advertData("PROV_" + "X".repeat(20)), /31/);
});

test("E.hwRand and Math.random are the fixed-seed PRNG on every boot", () => {
  const vals = [0, 1].map(() => {
    const d = new SimDevice({ slowdown: 0 });
    d.install("var r=[E.hwRand(),E.hwRand(),Math.random()];");
    d.boot();
    d.run(10);
    return JSON.stringify(d.ctx.r);
  });
  assert.equal(vals[0], vals[1]);
});

test("Math.pow is exp(log(x)·y) beyond small integer exponents, as jswrap_math.c computes it", () => {
  const d = new SimDevice({ slowdown: 0 });
  d.install("var h=1;for(var i=0;i<255;i++)h/=2;var r=[Math.pow(2,9),Math.pow(2,32),Math.pow(2,-255)/h];");
  d.boot();
  d.run(10);
  const [p9, p32, one] = d.ctx.r as number[];
  assert.equal(p9, 512, "exponents 0..9 are multiplied out exactly");
  assert.equal(p32!.toFixed(11), "4294967295.99999666214", "fixtures/probes/language.expected: pow32 4294967295.99999666213");
  assert.notEqual(one, 1, "so firmware must build powers of two by doubling (src/crypto/x25519.ts)");
});

test("E.mapInPlace unpacks bit fields and maps them as jswrap_espruino.c does (X25519's native gather)", () => {
  const d = new SimDevice({ slowdown: 0 });
  d.install("var a=new Uint8Array([0x12,0x34,0xAB]),b=new Uint8Array(6),c=new Uint8Array(6),t=new Float64Array(4),u=new Uint8Array(3),w=new Uint8Array(2);" +
    "E.mapInPlace(a,b,undefined,4);E.mapInPlace(a,c,undefined,-4);E.mapInPlace(new Uint8Array([2,0,1]),t,new Float64Array([1.5,2.5,3.5]));" +
    "E.mapInPlace(new Uint8Array([1,2,3]),u,function(v,i){return v*10+i;});E.mapInPlace(new Uint8Array([0xAB,0xCD]),w,undefined,12);" +
    "var r=[b,c,t,u,w].map(function(x){return x.join();});");
  d.boot();
  d.run(10);
  // What Espruino 2v29 (Linux build, same source) printed for the same calls.
  assert.deepEqual(Array.from(d.ctx.r as string[]), ["1,2,3,4,10,11", "2,1,4,3,11,10", "3.5,1.5,2.5,0", "10,21,32", "188,0"]);
  assert.throws(() => (d.ctx.E as any).mapInPlace([1], new Uint8Array(1)), /array buffers/);
});

test("ESP32.enableBLE(false) erases .bootcde but keeps .boot0, reboots with BLE absent", () => {
  const d = new SimDevice({ slowdown: 0 });
  d.install("var booted=1;", ".boot0");
  d.install("x=1;", ".bootcde");
  d.boot();
  d.ctx.ESP32.enableBLE(false);
  d.run(200);
  assert.equal(d.boots, 2);
  assert.ok(d.flash.files.has(".boot0") && !d.flash.files.has(".bootcde"));
  assert.equal(d.ctx.ESP32.getState().BLE, false);
  assert.throws(() => d.ctx.NRF.setServices({}), /disabled/);
});

test("credentials survive a power cut at every byte offset of a save: old or new, never corrupt", () => {
  const flash = new SimFlash();
  const S = { read: (k: string) => (flash.files.has(k) ? Buffer.from(flash.files.get(k)!).toString("latin1") : undefined), write: (k: string, v: string) => flash.writeFile(k, Buffer.from(v, "latin1")), erase: (k: string) => void flash.files.delete(k) };
  const store = credentialStore(S);
  const A = { ssid: Buffer.from("old-net"), pass: Buffer.from("old-password") }, B = { ssid: Buffer.from("new-network"), pass: Buffer.from("new-passphrase!") };
  store.save(A);
  const snapshot = new Map(flash.files);
  const recordLen = 40 + 2 * (B.ssid.length + B.pass.length);
  let offsets = 0;
  for (let cut = 0; cut <= 1 + HEADER_BYTES + recordLen; cut++) {
    flash.files = new Map(snapshot);
    flash.cutAfter(cut);
    try { store.save(B); } catch (e) { assert.ok(e instanceof PowerCut); }
    const got = credentialStore(S).load(); // after the reboot
    assert.ok(got, `cut at ${cut}: credentials lost`);
    const s = Buffer.from(got!.ssid).toString();
    assert.ok(s === "old-net" || s === "new-network", `cut at ${cut}: ${s}`);
    offsets++;
  }
  assert.ok(offsets > 60);
});

test("console REPL as jsinteractive.c: echo, =result, DLE lines silent, continuation, Ctrl-C, output around the prompt", async () => {
  const d = new SimDevice({ slowdown: 0.05 });
  let out = "";
  const c = new SimConsole(d, (raw) => { out += raw; });
  d.boot();
  const settle = () => { d.run(2000); return new Promise((r) => setImmediate(r)); };
  await settle();
  assert.ok(out.endsWith("\r\n>"), "prompt after the banner");
  out = "";
  c.input("1+2\r\n"); await settle(); // \r\n counts as one Enter
  assert.equal(out, "1+2\r\n=3\r\n>");
  out = "";
  c.input("\x10print('<'+'<<', process.env.VERSION)\n"); await settle();
  assert.equal(out, "<<< 2v29\r\n>", "no echo and no =undefined for a DLE line");
  out = "";
  c.input("var o = {\n a: 1\n}\n"); await settle();
  assert.equal(out, "var o = {\r\n: a: 1\r\n:}\r\n=undefined\r\n>");
  out = "";
  c.input("abc\x03"); await settle();
  assert.equal(out, "abc\r\x1b[J>", "Ctrl-C clears the typed line");
  out = "";
  c.input("setTimeout(function(){print('tick')},10)\n"); d.run(100); await settle();
  assert.match(out, /=\d+\r\n>\r\x1b\[Jtick\r\n>$/, "output removes the prompt and returns it");
  out = "";
  c.input("nope()\n"); await settle();
  assert.equal(out, "nope()\r\nUncaught ReferenceError: nope is not defined\r\n>");
});

test("host work on a printed line (stdout, drawing the QR code) is not device time", () => {
  const burn = () => { const t = performance.now(); while (performance.now() - t < 20) { /* 20 ms of host time per line */ } };
  const d = new SimDevice({ echo: burn });
  d.install(`print("a");setTimeout(function(){print("b")},10);`);
  d.boot();
  d.run(20000);
  // Billed at the old ×3000, each 20 ms line would have cost 60 s of device time and "b" would not be printed yet.
  assert.deepEqual(d.lines().filter((l) => l === "a" || l === "b"), ["a", "b"]);
});
