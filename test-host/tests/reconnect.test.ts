// Clients that reconnect fast (deferred-write GATT mode, the board's default interpreter slow-down): the
// firmware's queued work of a finished connection must never answer or drop the next one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decode, encode } from "../../src/proto/codec";
import { D_SessionData } from "../../src/proto/schema.gen";
import { bleTransport, simCentral } from "../client/transport";
import { DEFAULT_SLOWDOWN } from "../sim/scheduler";
import { device, provisionSim } from "./helpers";

const VER = "0000ff53-0000-1000-8000-00805f9b34fb", SESSION = "0000ff51-0000-1000-8000-00805f9b34fb";
const cmd0 = (pub: Uint8Array) => encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: pub } } });
const cmd1 = (v: Uint8Array) => encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: v } } });

test("a client that reconnects and writes at once reads its own reply, never the values cleared for the last link", () => {
  const d = device({ slowdown: DEFAULT_SLOWDOWN });
  d.run(1000); // the device key pair is being made: JS is busy in X25519 slices
  let zeros = 0;
  for (let i = 0; i < 20; i++) {
    d.ble.connect(185);
    d.ble.write(VER, Buffer.from("none"));
    const r = Buffer.from(d.ble.read(VER)).toString("latin1");
    if (r === "\0") zeros++;
    else assert.match(r, /"prov"/);
    d.ble.disconnect();
    d.run(i * 7); // reconnect at varying points of the device's work
  }
  assert.equal(zeros, 0, "a reply read as 00");
});

test("a client that vanishes mid-write: the firmware's drop for that bad frame does not land on the next link", async () => {
  const d = device({ slowdown: DEFAULT_SLOWDOWN });
  d.run(1000); // JS busy making the key pair, so the bad frame's onWrite waits in the queue
  for (let i = 0; i < 20; i++) {
    d.ble.connect(185);
    d.ble.writeThenVanish(SESSION, Uint8Array.of(0xff, 0xff), 35 + (i % 5) * 10); // arrives at +30, client gone after
    // The next central connects at once, discovers and talks, while the firmware handles the bad frame.
    const t = await bleTransport(simCentral(d));
    assert.match(Buffer.from(await t.exchange("proto-ver", Buffer.from("none"))).toString("latin1"), /"prov"/);
    d.run(300);
    assert.ok(d.ble.connected, `link ${i} still up`);
    await t.close();
  }
  assert.ok(d.lines().some((l) => /Request to prov-session failed/.test(l)), "the bad frames were handled");
});

test("a session dropped mid-X25519 neither drops the next link nor stops the device answering", async () => {
  // Five times the board's slow-down: the shared secret (4,582 RSA-block operations, ≈ 8 s at the default)
  // takes longer than the client's 30 s ATT timeout, so the central gives up on Cmd1 and reconnects while
  // the firmware still works for the old session.
  const d = device({ slowdown: 5 * DEFAULT_SLOWDOWN });
  d.run(300000); // key pair made (≈ 40 s of device time, more when this host is loaded: host time is billed too)
  d.ble.connect(185);
  d.ble.write(SESSION, cmd0(new Uint8Array(32).fill(9)));
  const r0 = decode(D_SessionData, d.ble.read(SESSION));
  assert.equal(r0.sec1?.sr0?.device_pubkey?.length, 32);
  assert.throws(() => d.ble.write(SESSION, cmd1(new Uint8Array(32).fill(1))), /ATT transaction timed out/);
  // New link at once; it must stay up and be answered while the old session's X25519 ends and fails.
  for (let i = 0; i < 40; i++) {
    const t = await bleTransport(simCentral(d));
    const v = Buffer.from(await t.exchange("proto-ver", Buffer.from("none"))).toString("latin1");
    assert.match(v, /"prov"/);
    d.run(500);
    assert.ok(d.ble.connected, `link ${i} still up`);
    await t.close();
  }
  assert.ok(d.lines().some((l) => /Key mismatch|session closed/.test(l)), "the old session's Cmd1 did end");
  d.sched.slowdown = 0.05; // the state left behind is checked, not the board-speed timing (that is the bench's)
  d.run(60000);
  const p = await provisionSim(d);
  assert.equal(p.ok, true);
});

test("a client that leaves right after Resp0: its shared-secret X25519 is abandoned, so the next client's handshake fits the ATT timeout", async () => {
  const d = device({ slowdown: DEFAULT_SLOWDOWN });
  d.run(120000); // key pair ready
  d.ble.connect(185);
  d.ble.write(SESSION, cmd0(new Uint8Array(32).fill(9)));
  d.ble.read(SESSION);
  d.ble.disconnect(); // its ladder (~18 s of device time) would otherwise run beside the next key pair's
  const t0 = d.sched.now;
  const p = await provisionSim(d); // Cmd0 waits for the new key pair, Cmd1 for the shared secret: 30 s each at most
  assert.equal(p.ok, true);
  assert.ok(d.sched.now - t0 < 120000);
});
