// Security1 byte-for-byte transcript (docs/protocol.md §2.2 deterministic vector) and negative cases, at unit
// level with fake ports.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { security1 } from "../../src/protocomm/security1";
import { createThrottle, lockoutMs } from "../../src/protocomm/throttle";
import { createProtocomm, Kind } from "../../src/protocomm/protocomm";
import { versionJson } from "../../src/protocomm/version";
import { convolveJs, gatherJs, generatedOps } from "../../src/crypto/x25519";
import { CryptoPort, KvPort } from "../../src/ports/ports";
import { hex, toHex } from "./helpers";
import { x25519Shared } from "../client/esp-prov";

const quiet = { e() {}, w() {}, i() {}, d() {} };
function kv(): KvPort & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return { m, read: (k) => m.get(k), write: (k, v) => void m.set(k, v), erase: (k) => void m.delete(k) };
}
function fakeCrypto(randoms: Uint8Array[]): CryptoPort {
  return {
    random: (n) => { const r = randoms.shift() || nodeCrypto.randomBytes(n); assert.equal(r.length, n); return r; },
    sha256: (d) => nodeCrypto.createHash("sha256").update(d).digest(),
    sha512: (d) => nodeCrypto.createHash("sha512").update(d).digest(),
    aes256: (key) => (b) => { const c = nodeCrypto.createCipheriv("aes-256-ecb", key, null).setAutoPadding(false); b.set(c.update(b)); },
    convolve: convolveJs,
    mapInPlace: gatherJs,
    defer: (fn) => fn(),
  };
}
const V = {
  devicePriv: "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
  random: "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
  cmd0: "10015a25a201220a2007a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
  resp0: "10015a390801aa013412205869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b1a10a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
  cmd1: "10015a270802b201221220527d5d0604ab390e387edfb2edd69291a9f5d3bc2486b9bfaf469157071f4eee",
  resp1: "10015a270803ba01221a202269f29d63597181e5a9ccb15dc0acde206674f74dbc91b1a0ad13a412d8403d",
  setCfg: "0bc6c65d49623f81d60a6b909704cf5fdae0755c1a87b011", respSet: "b1352496", apply: "7b22",
};

function setup(pop = "abcd1234", store = kv(), sessions = 1) {
  const clock = { now: () => 0, after: () => 0, cancel: () => {} };
  const randoms: Uint8Array[] = [];
  for (let i = 0; i < sessions; i++) randoms.push(hex(V.devicePriv), hex(V.random));
  const sec = security1({ pop: Buffer.from(pop), crypto: fakeCrypto(randoms), clock, log: quiet, throttle: createThrottle(store, quiet), ops: generatedOps });
  const pc = createProtocomm(sec, quiet);
  pc.add("prov-session", Kind.SEC);
  pc.add("prov-config", Kind.REQ, (req) => {
    assert.equal(toHex(req).slice(0, 4), toHex(req).startsWith("0802") ? "0802" : "0804");
    return toHex(req).startsWith("0802") ? hex("08036a00") : hex("08057a00");
  });
  pc.open(1);
  const call = (ep: string, h: string) => {
    let out: Uint8Array | undefined, err: Error | null = null;
    pc.handle(ep, 1, hex(h), (e, r) => { err = e; out = r; });
    if (err) throw err;
    return toHex(out!);
  };
  return { sec, pc, call, store };
}

test("Security1 transcript with fixed keys, byte for byte", () => {
  const { call } = setup();
  assert.equal(call("prov-session", V.cmd0), V.resp0);
  assert.equal(call("prov-session", V.cmd1), V.resp1);
  assert.equal(call("prov-config", V.setCfg), V.respSet);
  // ApplyConfig continues the one AES-CTR stream: request at offset 92, reply at 94. The expected reply is
  // computed here with node:crypto (X25519 of the vector's keys, SHA-256(PoP), CTR from device_random),
  // independently of the firmware: RespApplyConfig {msg: 5, status 0} = 08 05 7a 00, encrypted.
  const clientPub = hex(V.cmd0).subarray(-32);
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), hex(V.devicePriv)]);
  const shared = x25519Shared(nodeCrypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }), clientPub);
  const popHash = nodeCrypto.createHash("sha256").update("abcd1234").digest();
  const ctr = nodeCrypto.createCipheriv("aes-256-ctr", Buffer.from(shared.map((b, i) => b ^ popHash[i]!)), hex(V.random));
  const stream = ctr.update(Buffer.alloc(98));
  const want = Buffer.from(hex("08057a00").map((b, i) => b ^ stream[94 + i]!));
  assert.equal(Buffer.from(hex(V.respSet)).toString("hex"), Buffer.from(hex("08036a00").map((b, i) => b ^ stream[88 + i]!)).toString("hex"), "the independent key stream reproduces RespSetConfig");
  assert.equal(call("prov-config", V.apply), want.toString("hex"));
});

test("wrong PoP: session refused, counted, and a new session still works", () => {
  const s = setup("wrongpop");
  assert.equal(s.call("prov-session", V.cmd0), V.resp0);
  assert.throws(() => s.call("prov-session", V.cmd1), /Key mismatch/);
  assert.equal(createThrottle(s.store, quiet).failures(), 1);
  assert.throws(() => s.call("prov-config", V.setCfg), /not established/);
});

test("out-of-order and malformed session messages", () => {
  const s = setup();
  assert.throws(() => s.call("prov-session", V.cmd1), /Invalid state/, "Cmd1 before Cmd0");
  assert.throws(() => s.call("prov-config", V.setCfg), /not established/, "encrypted request before the handshake");
  assert.throws(() => s.call("prov-session", "10015a05a20102"), /protobuf|length/, "truncated");
  assert.throws(() => s.call("prov-session", "10015a04a2010100".slice(0, 14)), Error);
  assert.throws(() => s.call("prov-session", "10005a25a201220a20" + "00".repeat(32)), /security version/, "sec_ver 0 payload to sec1");
  assert.throws(() => s.call("prov-session", "10015a23a201200a1e" + "11".repeat(30)), /public key length/, "short public key");
  assert.throws(() => s.call("prov-session", "10015a0408001a00"), /message type/, "msg=Command0 carrying sc1 (oneof confusion)");
  const z = setup();
  z.call("prov-session", "10015a25a201220a20" + "00".repeat(32));
  assert.throws(() => z.call("prov-session", V.cmd1), /zero/, "all-zero client key gives a zero shared secret");
});

test("a second session replaces the first; SessionCmd0 in a later state restarts", () => {
  const s = setup("abcd1234", kv(), 3);
  s.call("prov-session", V.cmd0);
  s.call("prov-session", V.cmd1);
  assert.equal(s.call("prov-config", V.setCfg), V.respSet, "session 1 established");
  s.pc.open(2); // a new connection: the old session's keys are gone
  let err: Error | null = null;
  s.pc.handle("prov-config", 1, hex(V.setCfg), (e) => (err = e));
  assert.match(String(err), /Secure session not established/, "old session is gone");
  // SessionCmd0 on the established session 2 restarts the handshake from scratch: the same device key and
  // random give the very same SessionResp0/SessionResp1 and a fresh stream (RespSetConfig at offset 88 again).
  const call2 = (h: string) => { let out: Uint8Array | undefined, e2: Error | null = null; s.pc.handle("prov-session", 2, hex(h), (e, r) => { e2 = e; out = r; }); if (e2) throw e2; return toHex(out!); };
  assert.equal(call2(V.cmd0), V.resp0);
  assert.equal(call2(V.cmd1), V.resp1);
  assert.equal(call2(V.cmd0), V.resp0, "SessionCmd0 after the handshake restarts it");
  let cfgErr: Error | null = null;
  s.pc.handle("prov-config", 2, hex(V.setCfg), (e) => (cfgErr = e));
  assert.match(String(cfgErr), /Secure session not established/, "no encrypted traffic until SessionCmd1 completes again");
  assert.equal(call2(V.cmd1), V.resp1);
  let out: Uint8Array | undefined;
  s.pc.handle("prov-config", 2, hex(V.setCfg), (e, r) => { assert.equal(e, null); out = r; });
  assert.equal(toHex(out!), V.respSet, "the restarted session's stream starts over");
});

test("PoP throttle: exponential, capped, persisted across reboot; the first session after boot is allowed", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 20].map(lockoutMs), [0, 0, 0, 10000, 20000, 40000, 300000]);
  const store = kv();
  const t = createThrottle(store, quiet);
  for (let i = 0; i < 3; i++) t.failed(1000);
  assert.equal(t.wait(1000), 10000);
  const after = createThrottle(store, quiet); // reboot
  assert.equal(after.failures(), 3);
  assert.equal(after.wait(0), 0, "the owner's power-cycle escape");
  after.failed(500);
  assert.equal(after.wait(500), 20000, "a wrong first session locks for the next step");
  after.succeeded();
  assert.equal(createThrottle(store, quiet).failures(), 0, "cleared in flash");
});

test("proto-ver JSON is byte-identical to cJSON_Print (95 bytes for sec1 + PoP)", () => {
  const j = versionJson({ style: "json", fixed: "V0.1", secVer: 1, noPop: false, scan: true });
  assert.equal(j, '{\n\t"prov":\t{\n\t\t"ver":\t"v1.1",\n\t\t"sec_ver":\t1,\n\t\t"sec_patch_ver":\t0,\n\t\t"cap":\t["wifi_scan"]\n\t}\n}');
  assert.equal(j.length, 95);
  assert.ok(versionJson({ style: "json", fixed: "", secVer: 1, noPop: true, scan: true }).includes('["no_pop", "wifi_scan"]'));
});

test("after stop() (provisioning over) no key pair is made: neither the one being made nor the next session's", () => {
  const q: (() => void)[] = [], logged: string[] = [];
  const run = () => { let n = 0; while (q.length) { q.shift()!(); n++; } return n; };
  const crypto = { ...fakeCrypto([]), defer: (fn: () => void) => void q.push(fn) };
  const log = { ...quiet, i: (m: string) => void logged.push(m) };
  const clock = { now: () => 0, after: () => 0, cancel: () => {} };
  const mk = () => security1({ pop: Buffer.from("abcd1234"), crypto, clock, log, throttle: createThrottle(kv(), quiet), slice: 8, ops: generatedOps });
  // Control: a key pair made in slices completes and says so.
  mk().prepare();
  assert.ok(run() > 3);
  assert.equal(logged.filter((m) => m.startsWith("Device key pair ready")).length, 1);
  // Stopped mid-way: the remaining slices do nothing; a session ending afterwards starts no new key pair.
  logged.length = 0;
  const sec = mk();
  sec.prepare();
  q.shift()!(); q.shift()!();
  sec.stop();
  run();
  sec.open(7);
  sec.close(7);
  sec.prepare();
  assert.equal(run(), 0);
  assert.deepEqual(logged.filter((m) => m.startsWith("Device key pair ready")), []);
});
