// proto3 codec: wire vectors from docs/protocol.md §1, cross-check with protobufjs in both
// directions on seeded random messages, and every malformed-frame class.
import { test } from "node:test";
import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { decode, encode, Desc } from "../../src/proto/codec";
import * as S from "../../src/proto/schema.gen";
import { loadRoot } from "../../tools/gen-proto.mjs";
import { hex, toHex } from "./helpers";

test("wire vectors from the reference", () => {
  assert.equal(toHex(encode(S.D_SessionData, { sec0: { sc: {} } })), "5203a20100");
  assert.equal(toHex(encode(S.D_SessionData, { sec0: { msg: 1, sr: {} } })), "52050801aa0100");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { cmd_get_status: {} })), "5200");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 4 })), "0804");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 2, cmd_set_config: { ssid: Buffer.from("myssid"), passphrase: Buffer.from("mypassword") } })),
    "080262140a066d7973736964120a6d7970617373776f7264");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 3, resp_set_config: {} })), "08036a00");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 1, resp_get_status: { sta_state: 3, fail_reason: 0 } })), "08015a0410035000");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 1, resp_get_status: { sta_state: 3, fail_reason: 1 } })), "08015a0410035001");
  assert.equal(toHex(encode(S.D_WiFiConfigPayload, { msg: 1, resp_get_status: { sta_state: 0, connected: {
    ip4_addr: "192.168.43.220", auth_mode: 3, ssid: Buffer.from("myssid"), bssid: hex("112233445566"), channel: 6 } } })),
  "08015a265a240a0e3139322e3136382e34332e3232301003" + "1a066d7973736964" + "2206112233445566" + "2806");
  assert.equal(toHex(encode(S.D_WiFiScanPayload, { cmd_scan_start: { blocking: true, group_channels: 5, period_ms: 120 } })), "5206080118052078");
  const m = decode(S.D_WiFiConfigPayload, hex("08015a0410035000"));
  assert.deepEqual(m, { msg: 1, payload: "resp_get_status", resp_get_status: { sta_state: 3, state: "fail_reason", fail_reason: 0 } });
});

/** Seeded xorshift so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

test("cross-check with protobufjs on 3000 random messages, both directions", () => {
  const root = loadRoot(), r = rng(7331);
  const gen = (t: protobuf.Type, depth: number): any => {
    const o: any = {};
    for (const one of t.oneofsArray) { if (r() < 0.7) { const f = one.fieldsArray[Math.floor(r() * one.fieldsArray.length)]!; o[f.name] = val(f, depth); } }
    for (const f of t.fieldsArray) if (!f.partOf && r() < 0.7) o[f.name] = f.repeated ? Array.from({ length: Math.floor(r() * 3) }, () => val(f, depth)) : val(f, depth);
    return o;
  };
  const val = (f: protobuf.Field, depth: number): any => {
    if (f.resolvedType instanceof protobuf.Type) return depth > 3 ? {} : gen(f.resolvedType, depth + 1);
    if (f.resolvedType instanceof protobuf.Enum) { const v = Object.values(f.resolvedType.values); return v[Math.floor(r() * v.length)]; }
    if (f.type === "bytes") return Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
    if (f.type === "string") return Array.from({ length: Math.floor(r() * 12) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join("");
    if (f.type === "bool") return r() < 0.5;
    if (f.type === "int32") return Math.floor((r() - 0.5) * 2 ** 32) | 0;
    return Math.floor(r() * 2 ** 32) >>> 0;
  };
  const types = ["SessionData", "WiFiConfigPayload", "WiFiScanPayload", "WiFiCtrlPayload"];
  for (let i = 0; i < 3000; i++) {
    const name = types[i % types.length]!, T = root.lookupType(name), D = (S as any)["D_" + name] as Desc;
    const msg = gen(T, 0);
    const ours = encode(D, msg);
    const theirs = T.encode(T.fromObject(msg)).finish();
    assert.equal(toHex(ours), toHex(theirs), `${name} #${i}: encode differs`);
    const back = T.toObject(T.decode(new Uint8Array(ours)), { defaults: false, oneofs: false, bytes: Array });
    const mine = JSON.parse(JSON.stringify(decode(D, new Uint8Array(theirs)), (k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
    const strip = (o: any): any => { if (o && typeof o === "object" && !Array.isArray(o)) { for (const k of Object.keys(o)) { if (["proto", "payload", "state"].includes(k) && typeof o[k] === "string") delete o[k]; else o[k] = strip(o[k]); } } return o; };
    assert.deepEqual(strip(mine), JSON.parse(JSON.stringify(back)), `${name} #${i}: decode differs`);
  }
});

test("malformed frames give a typed error, never a hang or a stray exception type", () => {
  const cases: [string, string, string][] = [
    ["truncated varint", "08", "truncated"],
    ["truncated varint inside", "0880", "truncated"],
    ["length past the end", "5205a201", "length"],
    ["wrong wire type for a message field", "5000", "wire-type"],
    ["wrong wire type for a varint field", "120101", "wire-type"],
    ["field number 0", "0001", "field-zero"],
    ["group wire type", "0b", "wire-type"],
    ["varint over 10 bytes", "08ffffffffffffffffffff01", "varint"],
  ];
  for (const [what, h, code] of cases) {
    assert.throws(() => decode(S.D_SessionData, hex(h)), (e: any) => e.code === code, what);
  }
  // nesting abuse: a self-referencing message nested 20 deep stops at MAX_DEPTH
  const R: Desc = () => [[1, "r", 6, R]];
  let nest = new Uint8Array(0);
  for (let i = 0; i < 20; i++) nest = Uint8Array.from([0x0a, nest.length, ...nest]);
  assert.throws(() => decode(R, nest), (e: any) => e.code === "depth");
  // 10 KB of garbage: either decodes (unknown fields) or throws a codec error, quickly
  const r = rng(99);
  for (let k = 0; k < 20; k++) {
    const g = Uint8Array.from({ length: 10240 }, () => Math.floor(r() * 256));
    try { decode(S.D_WiFiConfigPayload, g); } catch (e: any) { assert.ok(typeof e.code === "string", "codec error carries a code"); }
  }
  // unknown fields are skipped
  assert.deepEqual(decode(S.D_WiFiConfigPayload, hex("0804a00601aa06020101")), { msg: 4 });
});
