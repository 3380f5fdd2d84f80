// The classic ESP32's RSA block as the hardware and ESP-IDF define it (issue 23): the register table against its
// documentation, the simulator's strictness, the chip-revision gate, another task (mbedtls) taking the block
// mid-computation, time-bounded waits, and the same block operations for every key.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import nacl from "tweetnacl";
import { x25519Mpi, mpiScalarMult, MpiIo, BASE_POINT } from "../../src/crypto/x25519-mpi";
import { WAIT_S } from "../../src/crypto/esp32-rsa";
import { REGISTERS } from "../../src/crypto/esp32-rsa-regs";
import { RsaBlock, DPORT_RSA_PD, ChipInfo } from "../sim/rsa";
import { device, provisionSim, hex, toHex, rsaBench as bench } from "./helpers";

const K = hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"), U = hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
const WANT = "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957";

/** mpiScalarMult on a bare model with tweetnacl as the JS X25519, its log and how often JS ran. */
function accel(chip?: ChipInfo) {
  const b = bench("none", chip), log: string[] = [];
  let jsCalls = 0;
  const mult = mpiScalarMult(b.io, {}, { i: (m) => log.push("I " + m), w: (m) => log.push("W " + m) }, (a, c, cb) => { jsCalls++; cb(nacl.scalarMult(a, c)); });
  const once = (k = K, u = U) => { let r = ""; mult(k, u, (o) => (r = toHex(o))); return r; };
  return { ...b, log, once, js: () => jsCalls };
}

test("register table: every row is documented in docs/esp32-rsa-block.md with its address and an ESP-IDF file:line", () => {
  const doc = fs.readFileSync(new URL("../../docs/esp32-rsa-block.md", import.meta.url), "utf8");
  for (const r of REGISTERS) {
    const addr = "0x" + r.addr.toString(16).toUpperCase().padStart(8, "0");
    const row = doc.split("\n").find((l) => l.startsWith(`| ${r.name} |`));
    assert.ok(row, `a row for ${r.name}`);
    assert.ok(row.includes(addr), `${r.name} at ${addr}: ${row}`);
    assert.match(row, /\w+\.h:\d+/, `${r.name} cites a header line`);
    if (r.reset !== undefined) assert.ok(row.includes("0x" + r.reset.toString(16).toUpperCase().padStart(8, "0")), `${r.name} reset value`);
  }
  // The power-down register is DR_REG_DPORT_BASE + 0x490 (dport_reg.h), not 0x3FF001FC (DPORT_PRO_TG1_T0_EDGE_INT_MAP_REG).
  assert.equal(DPORT_RSA_PD, 0x3ff00490);
  assert.equal(REGISTERS.filter((r) => r.addr === 0x3ff001fc).length, 0);
});

test("simulator: accesses outside the table, writes to read-only registers and unaligned ones are refused", () => {
  const blk = new RsaBlock();
  assert.throws(() => blk.write(0x3ff001fc, 1), /no register of the RSA table at 0x3ff001fc/);
  assert.throws(() => blk.read(0x3ff0281c), /no register/);
  assert.throws(() => blk.read(0x3ff02002), /no register/);
  assert.throws(() => blk.write(0x3ff5a00c, 0), /EFUSE_BLK0_RDATA3_REG .* is read-only/);
  assert.throws(() => blk.write(0x3ff02818, 1), /RSA_CLEAN_REG .* is read-only/);
  const d = device();
  assert.throws(() => d.evaluate("poke32(0x3FF001FC, 1)"), /no peripheral modelled at 0x3ff001fc/);
  assert.equal(d.evaluate("peek32(0x3FF00490)"), 1, "DPORT_RSA_PD_CTRL_REG: memories powered down, as the self-test left them");
});

test("simulator: a powered-down, reset or clock-gated block reads 0, loses writes and its memories; CLEAN after power-up", () => {
  const blk = new RsaBlock();
  const on = () => { blk.write(0x3ff0001c, 4); blk.write(0x3ff00020, 0); blk.write(0x3ff00490, 0); };
  blk.write(0x3ff02000, 7);
  assert.equal(blk.read(0x3ff02000), 0, "clock off: write lost, read 0");
  on();
  assert.equal(blk.read(0x3ff02818), 1, "CLEAN after a poll (≈ 1.3 µs)");
  blk.write(0x3ff02000, 7);
  assert.equal(blk.read(0x3ff02000), 7);
  blk.write(0x3ff00490, 1);
  assert.equal(blk.read(0x3ff02000), 0, "powered down");
  assert.equal(blk.read(0x3ff02818), 0, "no CLEAN while powered down");
  blk.write(0x3ff00490, 0);
  assert.equal(blk.read(0x3ff02000), 0, "memories cleared after power-up");
  blk.write(0x3ff02000, 9);
  blk.write(0x3ff00020, 16); // the digital-signature reset holds RSA too
  assert.equal(blk.read(0x3ff02000), 0);
  blk.write(0x3ff00020, 0);
  assert.equal(blk.read(0x3ff02000), 0, "cleared by the reset");
});

test("the driver powers the memories through DPORT_RSA_PD_CTRL_REG bit 0 and leaves other bits of it alone", () => {
  const { io, blk } = bench();
  const pdWrites: number[] = [];
  const poke = io.poke;
  io.poke = (a, v) => { if (a === DPORT_RSA_PD) pdWrites.push((v as number) >>> 0); poke(a, v); };
  blk.pd = 0x1 | 0x80000000; // as mbedtls leaves it (bit 0 set), with a bit that is not ours
  let r = "";
  x25519Mpi(K, U, io, { slice: 300 }, (o) => (r = toHex(o)), assert.fail);
  assert.equal(r, WANT);
  assert.deepEqual(pdWrites, [0x80000000, 0x80000001], "cleared for the slice, set again at its end");
});

test("chip revision: the block only on revision 3 or a single-core chip (ESP32 errata CPU-3.10); one log line says which path", () => {
  for (const [chip, used, line] of [
    [{ rev: 0 }, false, "I X25519 in JS: ESP32 chip revision 0 with two cores (DPORT read erratum, ESP32 errata CPU-3.10)"],
    [{ rev: 1 }, false, "I X25519 in JS: ESP32 chip revision 1 with two cores (DPORT read erratum, ESP32 errata CPU-3.10)"],
    [{ rev: 2 }, false, "I X25519 in JS: ESP32 chip revision 2 with two cores (DPORT read erratum, ESP32 errata CPU-3.10)"],
    [{ rev: 1, singleCore: true }, true, "I X25519 on the RSA accelerator (ESP32 chip revision 1, single core)"],
    [{ rev: 3 }, true, "I X25519 on the RSA accelerator (ESP32 chip revision 3)"],
  ] as const) {
    const a = accel(chip);
    assert.equal(a.once(), WANT);
    assert.equal(a.once(), WANT);
    assert.deepEqual(a.log, [line], JSON.stringify(chip));
    assert.equal(a.blk.ops > 0, used, JSON.stringify(chip));
    assert.equal(a.js(), used ? 0 : 2);
    if (!used) assert.equal(a.blk.clk, 0, "the block was not even clocked");
  }
});

test("simulator: a revision-1 board provisions with the JS X25519 and says so at boot", async () => {
  const d = device({ chip: { rev: 1 } });
  assert.equal((await provisionSim(d)).ok, true);
  assert.equal(d.rsa!.ops, 0);
  assert.ok(d.lines().some((l) => /^I \(\d+\) security1: X25519 in JS: ESP32 chip revision 1 with two cores/.test(l)), d.lines().join("\n"));
});

test("mbedtls takes the block mid-computation (any access): never a wrong key, that X25519 redone in JS, the block used again after", () => {
  // Where to inject: a spread over the whole X25519 plus every access of its last product and the final reads.
  const probe = accel();
  probe.once();
  const a0 = probe.blk.accesses;
  probe.once();
  const n = probe.blk.accesses - a0;
  const points = new Set<number>();
  for (let i = 0; i < 60; i++) points.add(Math.floor((i * n) / 60) + 7 * i);
  for (let i = n - 40; i < n; i++) points.add(i);
  // Every access of the first slice's acquire, its wait for CLEAN included: mbedtls taking and releasing the block
  // there leaves it off, which is someone else's use (BUSY), not a silent block that would end the accelerator's use.
  for (let i = 0; i < 12; i++) points.add(i);
  let redone = 0;
  for (const at of points) {
    const a = accel();
    assert.equal(a.once(), WANT); // self-test and a first X25519 on the block
    const js0 = a.js();
    a.blk.interfereAt = a.blk.accesses + at;
    assert.equal(a.once(), WANT, `interference before access ${at} of ${n}`);
    assert.deepEqual(a.blk.mbedtlsRuns, [true], `mbedtls got its own answer (${at})`);
    // While a slice releases the block (its result already verified) or between slices, mbedtls disturbs nothing;
    // anywhere else the slice is dropped.
    const js = a.js() - js0;
    assert.ok(js <= 1);
    // Taken mid-slice: LOST; taken and released while our acquire waited for CLEAN: BUSY. Both redo it in JS.
    assert.equal(a.log.length - 1, js, `${at}`);
    if (js) assert.match(a.log[1]!, /^W RSA accelerator (taken by another user|busy): this X25519 redone in JS$/, `${at}`);
    redone += js;
    assert.equal(a.blk.clk & 4, 0, "the block left off");
    a.blk.interfereAt = -1;
    const ops0 = a.blk.ops;
    assert.equal(a.once(), WANT);
    assert.equal(a.js(), js0 + js, "the next X25519 runs on the block again");
    assert.ok(a.blk.ops > ops0);
  }
  assert.ok(redone >= points.size - 10, `${redone} of ${points.size} injections hit a slice`);
});

test("simulator: mbedtls takes the block during a Security 1 session; the session still succeeds", async () => {
  const d = device();
  d.run(3000); // boot, self-test, device key pair
  d.rsa!.interfereAt = d.rsa!.accesses + 20000; // inside the shared-secret X25519
  assert.equal((await provisionSim(d)).ok, true);
  assert.deepEqual(d.rsa!.mbedtlsRuns, [true]);
  assert.ok(d.lines().some((l) => /^W \(\d+\) security1: RSA accelerator taken by another user: this X25519 redone in JS$/.test(l)), d.lines().join("\n"));
});

test("waits are bounded in time (getTime), not in polls: a slow MODEXP is waited for, a silent block given up after WAIT_S", () => {
  // A block 5× slower than modelled (the 1024-bit MODEXP ≈ 80 ms): many polls, still within WAIT_S.
  const slow = bench();
  slow.blk.slow = 5;
  let r = "";
  x25519Mpi(K, U, slow.io, { slice: 300 }, (o) => (r = toHex(o)), (w) => (r = "fail " + w));
  assert.equal(r, WANT);
  // A block that never raises its done flag: given up once WAIT_S of device time has passed, block released.
  const stuck = bench("stuck");
  const t0 = stuck.blk.now();
  x25519Mpi(K, U, stuck.io, {}, () => assert.fail("stuck block answered"), (w) => (r = w));
  const waited = (stuck.blk.now() - t0) / 1000;
  assert.equal(r, "no answer");
  assert.ok(waited >= WAIT_S && waited < WAIT_S * 1.1, `${waited} s`);
  assert.equal(stuck.blk.clk & 4, 0);
  // A clock that goes back (setTime) ends the wait too.
  const back = bench("stuck");
  let t = 100;
  back.io.now = () => (t -= 0.001);
  x25519Mpi(K, U, back.io, {}, () => assert.fail("answered"), (w) => (r = w));
  assert.equal(r, "no answer");
});

test("the same block operations, in the same order, for every key", () => {
  const trace = (k: Uint8Array) => {
    const { io } = bench(), log: string[] = [];
    const peek = io.peek, poke = io.poke;
    io.peek = (a, n) => { log.push(`r ${a.toString(16)} ${n || 1}`); return peek(a, n); };
    io.poke = (a, v) => { log.push(`w ${a.toString(16)} ${typeof v === "number" ? 1 : v.length}`); poke(a, v); };
    let r = "";
    x25519Mpi(k, BASE_POINT, io, { slice: 300 }, (o) => (r = toHex(o)), assert.fail);
    assert.equal(r, toHex(nacl.scalarMult(k, BASE_POINT)));
    return log;
  };
  const keys = [new Uint8Array(32), new Uint8Array(32).fill(0xff), K, hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")];
  const first = trace(keys[0]!);
  for (const k of keys.slice(1)) {
    const t = trace(k);
    const at = first.findIndex((e, i) => e !== t[i]);
    assert.equal(at, -1, `key ${toHex(k)} differs at access ${at}: ${first[at]} / ${t[at]}`);
    assert.equal(t.length, first.length);
  }
});
