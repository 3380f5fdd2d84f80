/**
 * Property-based fuzzing (fast-check) of every protocomm endpoint through the shipped bundle in the
 * simulator. A case = a fresh link (new session; under security 1 an encrypted endpoint's session carries
 * over) and a few frames: raw bytes, or valid protobuf messages (SessionData sec0/sec1, WiFiConfigPayload
 * Get/Set/Apply, WiFiScanPayload Start/Status/Result, WiFiCtrlPayload Reset/Reprov) or custom-data text built
 * from generated fields and then mutated byte-wise, Security 1 steps (Cmd0 from a key the fuzzer holds,
 * Cmd1 with the right or a wrong proof), and device time passing.
 * Properties after every frame (model.ts says what ESP-IDF would do):
 *   - no "Uncaught …" line from the firmware, no reboot;
 *   - the link dropped exactly when ESP-IDF drops it (a handler error), answered otherwise, and the answer
 *     is the right message (session state as the protocol says: the encrypted endpoints answer only in an
 *     established session, through the session's CTR stream under security 1; scan and station state);
 * and at the end of a run a correct client (esp_prov's steps) provisions the same boot.
 * One booted device serves a whole run; sessions are reset by reconnecting. The interpreter slow-down is 0
 * (device time = event dispatch only), which makes runs reproducible from the seed.
 */
import fs from "node:fs";
import nodeCrypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { Desc, encode } from "../../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload, D_WiFiCtrlPayload, D_WiFiScanPayload } from "../../src/proto/schema.gen";
import { SimDevice } from "../sim/device";
import { DEFAULT_WORLD, RadioWorld } from "../sim/wifi";
import { bleTransport, simCentral } from "../client/transport";
import { provision, x25519Shared } from "../client/esp-prov";
import { FuzzLink, Reply, bleLink, httpLink } from "./link";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { clientKey, established, expectedNetworks, expectFrame, initialState, ModelState, newSession } from "./model";

export const POP = "abcd1234";
/** Frames a failure report lists at most (the tail of a long session). */
const TRACE_MAX = 300;
export type Endpoint = "proto-ver" | "prov-session" | "prov-config" | "prov-scan" | "prov-ctrl" | "custom-data";
/** The endpoints that go through the session's cipher and need an established session under security 1. */
export const ENCRYPTED: Endpoint[] = ["prov-config", "prov-scan", "prov-ctrl", "custom-data"];
export const ENDPOINTS: Endpoint[] = ["proto-ver", "prov-session", ...ENCRYPTED];
/** transport: "ble" (default) through the virtual central, "http" through the SoftAP build's HTTP server. */
export interface Target { endpoint: Endpoint; sec: 0 | 1; transport?: "ble" | "http" }
/** Every endpoint the firmware serves, in security 0 and 1 builds (proto-ver does not depend on the scheme). */
export const TARGETS: Target[] = [
  { endpoint: "proto-ver", sec: 0 },
  ...(["prov-session", ...ENCRYPTED] as Endpoint[]).flatMap((endpoint) => [{ endpoint, sec: 0 as const }, { endpoint, sec: 1 as const }]),
];
const encrypted = (ep: Endpoint) => ENCRYPTED.includes(ep);

/**
 * The radio world of a fuzzed device: the network the honest client joins, and 20 more with SSIDs of 1 to
 * 32 bytes, equal signal strengths and every auth mode, so that scans keep 16 (CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES),
 * rank ties and pages get cut to fit a BLE read. Passwords no fuzzed SetConfig sends.
 */
/**
 * What every fuzzer requires of the board after each frame: no uncaught firmware error in the log lines since
 * `from`, no reboot. Trims the logs of a long run; returns where the next check starts.
 */
export function checkDevice(d: SimDevice, from: number, fail: (msg: string) => never): number {
  const log = d.log;
  for (let i = from; i < log.length; i++) if (/^Uncaught/.test(log[i]!.line)) fail("firmware: " + log[i]!.line);
  if (d.boots !== 1) fail("the device rebooted");
  if (log.length > 20000) { log.length = 0; d.ble.log.length = 0; }
  return log.length;
}

export const FUZZ_WORLD: RadioWorld = {
  aps: [...DEFAULT_WORLD.aps, ...Array.from({ length: 20 }, (_, i) => ({
    ssid: (i % 3 === 0 ? "Fuzz-AP-" : i % 3 === 1 ? "n\u00e9twork " : "x").padEnd(1 + ((i * 13) % 32), String.fromCharCode(97 + i)).slice(0, 1 + ((i * 13) % 32)),
    password: "not-a-fuzzed-password-" + i, rssi: -40 - 5 * (i % 7), channel: 1 + (i % 13), bssid: `02:00:00:00:00:${i.toString(16).padStart(2, "0")}`,
    auth: ["open", "wep", "wpa", "wpa2", "wpa_wpa2"][i % 5],
  }))],
};
/** The same targets over SoftAP/HTTP. */
export const HTTP_TARGETS: Target[] = TARGETS.map((t) => ({ ...t, transport: "http" as const }));
export const targetName = (t: Target) => `${t.endpoint}/sec${t.sec}${t.transport === "http" ? "/http" : ""}`;
/** Which bundle a target runs: "ble0", "ble1", "http0", "http1". */
export const bundleKey = (t: Target) => `${t.transport === "http" ? "http" : "ble"}${t.sec}`;

/** One step of a case, as plain data (printed on failure, stored in the corpus). Bytes as hex. */
export type Step =
  | { t: "raw"; ep: Endpoint; hex: string }
  | { t: "msg"; ep: Endpoint; obj: unknown; mut: Mut[] }
  | { t: "cmd0"; seed: string; low?: number; mut: Mut[] }
  | { t: "cmd1"; good: boolean; alt: string; mut: Mut[] }
  | { t: "reconnect" }
  /** Device time passes (a scan finishing, a connection attempt failing). */
  | { t: "wait"; ms: number };
/** [op, position, value, count]: 0 flip a bit, 1 set a byte, 2 insert, 3 delete, 4 truncate, 5 duplicate a slice. */
export type Mut = [number, number, number, number];
/** The protobuf message each endpoint takes (proto-ver and custom-data take text). */
const SCHEMA: Partial<Record<Endpoint, Desc>> = {
  "prov-session": D_SessionData, "prov-config": D_WiFiConfigPayload, "prov-scan": D_WiFiScanPayload, "prov-ctrl": D_WiFiCtrlPayload,
};

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

export function mutate(b: Uint8Array, muts: Mut[], max: number): Uint8Array {
  let a = Array.from(b);
  for (const [op, at, v, n] of muts) {
    const p = a.length ? at % (a.length + (op === 2 ? 1 : 0)) : 0;
    if (op === 0 && a.length) a[p] = a[p]! ^ (1 << (v & 7));
    else if (op === 1 && a.length) a[p] = v;
    else if (op === 2) a.splice(p, 0, ...Array.from({ length: n }, (_, i) => (v + i * 37) & 255));
    else if (op === 3) a.splice(p, n);
    else if (op === 4) a = a.slice(0, p);
    else if (op === 5) a.splice(p, 0, ...a.slice(p, p + n));
  }
  if (!a.length) a = [muts.length ? muts[0]![2] : 0]; // a zero-length write is refused by the GATT layer itself
  return Uint8Array.from(a.slice(0, max));
}

// Low-order points (RFC 7748 §6.1 / libsodium's blocklist): 0, 1 and an order-8 point.
const LOW = ["00".repeat(32), "01" + "00".repeat(31), "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"];

// ---------------- generators ----------------

const mutArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat({ max: 65535 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 8 })), { maxLength: 3 });
const someMut = fc.oneof({ weight: 1, arbitrary: fc.constant([] as Mut[]) }, { weight: 3, arbitrary: mutArb });
const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });
const rawArb = (ep: Endpoint, max: number): fc.Arbitrary<Step> =>
  fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 24 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: max }) })
    .map((b) => ({ t: "raw", ep, hex: hex(b) }));
const smallInt = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -1, max: 0x7fffffff }));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

/** SessionData messages of every shape (sec0 and sec1 payloads, right and wrong versions and types). */
const sessionObj = fc.oneof(
  fc.record({ sec_ver: opt(smallInt), msg: opt(smallInt), kind: fc.constantFrom("sc", "sr", "none"), status: fc.integer({ min: 0, max: 7 }) })
    .map(({ sec_ver, msg, kind, status }) => ({ sec_ver, sec0: { msg, ...(kind === "sc" ? { sc: {} } : kind === "sr" ? { sr: { status } } : {}) } })),
  fc.record({ sec_ver: opt(smallInt), msg: opt(smallInt), kind: fc.constantFrom("sc0", "sr0", "sc1", "sr1", "none"), b: bytesArb(40), b2: bytesArb(20) })
    .map(({ sec_ver, msg, kind, b, b2 }) => ({
      sec_ver, sec1: {
        msg, ...(kind === "sc0" ? { sc0: { client_pubkey: b } } : kind === "sc1" ? { sc1: { client_verify_data: b } } :
          kind === "sr0" ? { sr0: { status: 0, device_pubkey: b, device_random: b2 } } : kind === "sr1" ? { sr1: { device_verify_data: b } } : {}),
      },
    })),
  fc.constant({}),
);

/** WiFiConfigPayload messages: Get/Set/Apply and replies, any msg number, fields of every length. */
const configFields = (msg: fc.Arbitrary<number>) => fc.record({
  msg,
  kind: fc.constantFrom("get", "set", "apply", "none", "rget", "rset"),
  ssid: fc.oneof(bytesArb(40), fc.constantFrom(Buffer.from("myssid"), Buffer.from("x".repeat(32)))),
  pass: fc.oneof(bytesArb(70), fc.constant(Buffer.from("wrongpass"))),
  bssid: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 6, maxLength: 6 }), bytesArb(8)),
  channel: opt(fc.integer({ min: -1, max: 300 })),
}).map(({ msg, kind, ssid, pass, bssid, channel }) => {
  const o: any = { msg };
  if (kind === "get") o.cmd_get_status = {};
  if (kind === "set") o.cmd_set_config = { ssid, passphrase: pass, bssid, channel };
  if (kind === "apply") o.cmd_apply_config = {};
  if (kind === "rget") o.resp_get_status = { status: 0, sta_state: 1 };
  if (kind === "rset") o.resp_set_config = { status: 0 };
  return o;
});
/** Any msg number: mostly the three commands, a share of others (replies, unknown: the device fails them). */
const anyMsg = (valid: number[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: smallInt });
const configObj = configFields(anyMsg([0, 2, 4]));

/** uint32 fields: mostly small (in and just past the 16 results), sometimes the edges of the range. */
const u32 = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff) }, { weight: 1, arbitrary: fc.nat() });

/** WiFiScanPayload messages: ScanStart (blocking or not, options), ScanStatus, ScanResult pages, replies. */
const scanFields = (msg: fc.Arbitrary<number>) => fc.record({
  msg,
  kind: fc.constantFrom("start", "status", "result", "result", "none", "rstart", "rresult"),
  blocking: fc.boolean(), passive: fc.boolean(), group: opt(u32), period: opt(u32), from: u32, count: u32,
}).map(({ msg, kind, blocking, passive, group, period, from, count }) => {
  const o: any = { msg };
  if (kind === "start") o.cmd_scan_start = { blocking, passive, group_channels: group, period_ms: period };
  if (kind === "status") o.cmd_scan_status = {};
  if (kind === "result") o.cmd_scan_result = { start_index: from, count };
  if (kind === "rstart") o.resp_scan_start = {};
  if (kind === "rresult") o.resp_scan_result = { entries: [{ ssid: Buffer.from("x"), channel: 1, rssi: -1 }] };
  return o;
});
const scanObj = scanFields(anyMsg([0, 2, 4]));

/** WiFiCtrlPayload messages: Reset, Reprov, the reserved 0, replies. */
const ctrlFields = (msg: fc.Arbitrary<number>) => fc.record({
  msg,
  kind: fc.constantFrom("reset", "reprov", "none", "rreset"),
}).map(({ msg, kind }) => {
  const o: any = { msg };
  if (kind === "reset") o.cmd_ctrl_reset = {};
  if (kind === "reprov") o.cmd_ctrl_reprov = {};
  if (kind === "rreset") o.resp_ctrl_reset = {};
  return o;
});
const ctrlObj = ctrlFields(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 3) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, 4) }, { weight: 1, arbitrary: smallInt }));

/** custom-data: esp_prov --custom_data text, or any bytes. */
const customObj = fc.oneof(fc.constantFrom("hello", "SUCCESS", "{\"k\":1}"), fc.string({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString("latin1")));

/** The structured messages of an encrypted endpoint. */
const messages: Record<string, fc.Arbitrary<unknown>> = { "prov-config": configObj, "prov-scan": scanObj, "prov-ctrl": ctrlObj, "custom-data": customObj };
/** The same with a command's msg number only (security 1 "keep the session" frames; the payload may still mismatch). */
const commands: Record<string, fc.Arbitrary<unknown>> = {
  "prov-config": configFields(fc.constantFrom(0, 2, 4)), "prov-scan": scanFields(fc.constantFrom(0, 2, 4)), "prov-ctrl": ctrlFields(fc.constantFrom(1, 3)), "custom-data": customObj,
};
const waitArb = fc.oneof(fc.constantFrom(1500, 2600, 4100), fc.integer({ min: 0, max: 6000 })).map((ms) => ({ t: "wait", ms }) as Step);

function stepArb(t: Target, max: number): fc.Arbitrary<Step> {
  const reconnect = fc.constant<Step>({ t: "reconnect" });
  if (t.endpoint === "proto-ver") {
    return fc.oneof({ weight: 3, arbitrary: rawArb("proto-ver", max) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom("none", "V0.1", '{"prov":1}'), mutArb).map(([s, mut]) => ({ t: "msg", ep: "proto-ver", obj: s, mut }) as Step) });
  }
  if (encrypted(t.endpoint)) {
    const ep = t.endpoint, own = messages[ep]!, cmd = commands[ep]!;
    const msg = (a: fc.Arbitrary<unknown>, e: Endpoint, m: fc.Arbitrary<Mut[]>) => fc.tuple(a, m).map(([obj, mut]) => ({ t: "msg", ep: e, obj, mut }) as Step);
    // prov-scan and prov-ctrl depend on the Wi-Fi state: credentials set and applied (they fail), time passing.
    const wifi = ep === "prov-scan" || ep === "prov-ctrl";
    if (t.sec === 1) {
      // Every drop costs a new handshake (two X25519 on the device): mostly well-formed requests that keep the
      // session, so that the CTR stream is exercised over long sessions, and a share of frames that end it.
      return fc.oneof({ weight: 1, arbitrary: rawArb(ep, max) },
        // custom-data never fails in a session: its only drops are these reconnects, kept rare (each costs a handshake).
        { weight: ep === "custom-data" ? 200 : 14, arbitrary: msg(cmd, ep, fc.constant([])) },
        { weight: 2, arbitrary: msg(own, ep, fc.constant([])) },
        { weight: 2, arbitrary: msg(own, ep, mutArb) },
        { weight: wifi ? 4 : 0, arbitrary: msg(commands["prov-config"]!, "prov-config", fc.constant([])) },
        { weight: wifi ? 2 : 0, arbitrary: waitArb },
        // A new link without a handshake: the next request finds no session (protocomm fails the decrypt).
        { weight: 1, arbitrary: reconnect });
    }
    return fc.oneof({ weight: 2, arbitrary: rawArb(ep, max) },
      { weight: 6, arbitrary: msg(own, ep, someMut) },
      { weight: 1, arbitrary: msg(sessionObj, "prov-session", someMut) },
      { weight: 1, arbitrary: reconnect },
      { weight: wifi ? 3 : 0, arbitrary: msg(configObj, "prov-config", fc.constant([])) },
      { weight: wifi ? 1 : 0, arbitrary: waitArb });
  }
  const session = fc.oneof({ weight: 2, arbitrary: rawArb("prov-session", max) },
    { weight: 4, arbitrary: fc.tuple(sessionObj, someMut).map(([obj, mut]) => ({ t: "msg", ep: "prov-session", obj, mut }) as Step) });
  if (t.sec === 0) return fc.oneof({ weight: 6, arbitrary: session }, { weight: 1, arbitrary: reconnect });
  return fc.oneof({ weight: 5, arbitrary: session },
    { weight: 3, arbitrary: fc.record({ seed: fc.uint8Array({ minLength: 32, maxLength: 32 }), low: opt(fc.integer({ min: 0, max: LOW.length - 1 })), mut: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Mut[]) }, { weight: 1, arbitrary: mutArb }) })
      .map(({ seed, low, mut }) => ({ t: "cmd0", seed: hex(seed), low, mut }) as Step) },
    { weight: 3, arbitrary: fc.record({ good: fc.boolean(), alt: fc.uint8Array({ minLength: 32, maxLength: 32 }), mut: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Mut[]) }, { weight: 1, arbitrary: mutArb }) })
      .map(({ good, alt, mut }) => ({ t: "cmd1", good, alt: hex(alt), mut }) as Step) },
    { weight: 1, arbitrary: reconnect });
}

export const caseArb = (t: Target, max: number) => fc.array(stepArb(t, max), { minLength: 1, maxLength: 8 });

// ---------------- the run ----------------

export interface FuzzStats {
  target: string; frames: number; protocolFrames: number; drops: number; reconnects: number; cases: number;
  /** Sessions that reached "established" (security 1: Resp1 verified by the client). */
  sessions: number;
  ms: number;
}

export class FuzzFailure extends Error {}

/** Builds the bundles a run needs (BLE and SoftAP, security 0 and 1) with tools/build.mjs, as flash.sh's dist/firmware.js is built. */
export async function bundles(): Promise<Record<string, string>> {
  const { build } = await import("../../tools/build.mjs");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fuzz-"));
  const out: Record<string, string> = {};
  for (const [tr, transport] of [["ble", 'CONFIG_PROV_TRANSPORT="ble"\nCONFIG_PROV_BLE_MTU=517'], ["http", 'CONFIG_PROV_TRANSPORT="softap"']] as const) {
    for (const sec of [0, 1] as const) {
      const cfg = path.join(dir, `${tr}${sec}.sdkconfig`);
      fs.writeFileSync(cfg, `${transport}\nCONFIG_PROV_SECURITY_VERSION=${sec}\nCONFIG_PROV_POP_MODE="fixed"\nCONFIG_PROV_POP="${POP}"\nCONFIG_LOG_LEVEL="info"\n`);
      const file = path.join(dir, `${tr}${sec}.js`);
      await build({ board: "esp32", config: cfg, out: file });
      out[tr + sec] = fs.readFileSync(file, "latin1");
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Boots a bundle; a SoftAP build boots with BLE already off (the state after its one BLE-off reboot). */
export function bootDevice(bundle: string, t?: Target): SimDevice {
  const d = new SimDevice({ world: FUZZ_WORLD, slowdown: 0 });
  if (t?.transport === "http") d.nvs.ble = false;
  d.install(bundle);
  d.boot();
  d.run(5000);
  return d;
}

/** A device, a link, the model, and the step executor with all the per-frame properties. */
export class Fuzzer {
  st: ModelState;
  link: FuzzLink;
  stats: FuzzStats;
  trace: string[] = [];
  /** Lines traced since the last reconnect (trace keeps the tail). */
  private traced = 0;
  private logFrom = 0;
  private keyNo = 0;

  constructor(public d: SimDevice, public t: Target, mkLink: (d: SimDevice) => FuzzLink = t.transport === "http" ? httpLink : bleLink) {
    this.link = mkLink(d);
    this.st = initialState(t.sec, POP, FUZZ_WORLD);
    this.stats = { target: targetName(t), frames: 0, protocolFrames: 0, drops: 0, reconnects: 0, cases: 0, sessions: 0, ms: 0 };
  }

  private fail(msg: string): never {
    const tail = this.d.log.slice(-12).map((l) => "    | " + l.line).join("\n");
    const cut = this.traced > this.trace.length ? [`(${this.traced - this.trace.length} earlier frames of this session left out)`] : [];
    throw new FuzzFailure(`${this.stats.target}: ${msg}\n  frames since the last reconnect (a security 1 session carries over cases):\n` +
      `${[...cut, ...this.trace].map((s) => "    " + s).join("\n")}\n  device log tail:\n${tail}`);
  }

  /** Records a line of the session's trace, keeping the last TRACE_MAX. */
  private note(line: string) {
    this.traced++;
    this.trace.push(line);
    if (this.trace.length > 2 * TRACE_MAX) this.trace.splice(0, this.trace.length - TRACE_MAX);
  }

  private checkDevice() { this.logFrom = checkDevice(this.d, this.logFrom, (m) => this.fail(m)); }

  reconnect() {
    this.link.reconnect();
    newSession(this.st);
    this.stats.reconnects++;
    this.trace = ["reconnect"];
    this.traced = 1;
  }

  /** One frame: plaintext `req` to `ep` (encrypted here for prov-config in a security 1 session). */
  frame(ep: Endpoint, req: Uint8Array, fuzzed: boolean): Uint8Array | undefined {
    if (!this.link.connected()) this.reconnect();
    const now = this.d.sched.now - this.d.resetAt;
    const e = expectFrame(this.st, ep, req, now);
    const wire = encrypted(ep) && this.st.secVer === 1 && established(this.st) ? this.st.sec1.crypt!(req) : req;
    this.note(`${ep} ${hex(req)}${wire !== req ? " (encrypted " + hex(wire) + ")" : ""}  — expect ${e.drop === true ? "drop" : e.drop === false ? "reply" : "drop or reply"}: ${e.why}`);
    if (fuzzed) this.stats.frames++; else this.stats.protocolFrames++;
    let r: Reply;
    try {
      r = this.link.exchange(ep, wire);
    } catch (err) {
      // Neither a reply nor a drop (a reply too long for one BLE read, no HTTP answer in time).
      this.checkDevice();
      this.fail(`exchange failed: ${(err as Error).message}`);
    }
    this.checkDevice();
    if (r.dropped) {
      this.stats.drops++;
      if (e.drop === false) this.fail(`link dropped (${r.why}) where ESP-IDF answers (${e.why})`);
      if (this.link.connected()) this.fail("exchange failed but the link is still up");
      this.st.linked = false;
      e.onDrop?.(this.d.sched.now - this.d.resetAt);
      return undefined;
    }
    if (e.drop === true) this.fail(`device answered ${hex(r.bytes)} where ESP-IDF drops the link (${e.why})`);
    const bad = e.check?.(r.bytes);
    if (bad) this.fail(`wrong reply ${hex(r.bytes)}: ${bad}`);
    const was = this.st.secVer === 1 && this.st.sec1.state === 2;
    e.onReply?.(r.bytes);
    if (this.st.secVer === 1 && !was && this.st.sec1.state === 2) this.stats.sessions++;
    return r.bytes;
  }

  /** Establishes a session the honest way (security 0 command, or Cmd0/Cmd1 with a fresh key). */
  handshake() {
    if (!this.link.connected()) this.reconnect();
    if (this.t.sec === 0) {
      this.frame("prov-session", encode(D_SessionData, { sec_ver: 0, sec0: { msg: 0, sc: {} } }), false);
    } else {
      const seed = new Uint8Array(32);
      seed.set(Buffer.from("handshake"));
      new DataView(seed.buffer).setUint32(28, ++this.keyNo);
      this.run({ t: "cmd0", seed: hex(seed), mut: [] }, false);
      if (this.link.connected()) this.run({ t: "cmd1", good: true, alt: "", mut: [] }, false);
    }
    if (!established(this.st)) this.fail("an honest handshake did not establish a session");
  }

  /** Executes one step. */
  run(s: Step, fuzzed = true) {
    const max = this.link.maxRequest;
    if (s.t === "reconnect") return this.reconnect();
    if (s.t === "wait") {
      this.note(`wait ${s.ms} ms`);
      this.d.run(s.ms);
      return this.checkDevice();
    }
    if (s.t === "raw") return void this.frame(s.ep, unhex(s.hex), fuzzed);
    if (s.t === "msg") {
      const base = typeof s.obj === "string" ? new Uint8Array(Buffer.from(s.obj, "latin1")) : encode(SCHEMA[s.ep]!, s.obj);
      return void this.frame(s.ep, mutate(base, s.mut, max), fuzzed);
    }
    if (s.t === "cmd0") {
      const k = clientKey(unhex(s.seed));
      this.st.lastKey = k;
      const pub = s.low === undefined ? k.pub : unhex(LOW[s.low]!);
      return void this.frame("prov-session", mutate(encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: pub } } }), s.mut, max), fuzzed);
    }
    // cmd1: the right proof when the model knows the session's key, else the generated bytes.
    const c = this.st.sec1;
    let v: Uint8Array = unhex(s.alt || "00".repeat(32));
    if (s.good && c.state === 1 && c.key && c.devPub && c.devRandom) {
      v = rightProof(x25519Shared(c.key.priv, c.devPub), this.st.pop, c.devRandom, c.devPub);
    }
    this.frame("prov-session", mutate(encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: v } } }), s.mut, max), fuzzed);
  }

  /** A case: a fresh link (and, for an encrypted endpoint, an established session, kept from the last case under security 1), then the steps. */
  runCase(steps: Step[]) {
    this.stats.cases++;
    const enc = encrypted(this.t.endpoint);
    const keepSession = enc && this.t.sec === 1 && this.link.connected() && established(this.st);
    if (!keepSession) {
      this.reconnect();
      if (enc) this.handshake();
    }
    for (const s of steps) {
      if (enc && !this.link.connected() && s.t !== "reconnect" && s.t !== "wait") this.handshake();
      this.run(s);
    }
  }

  /** The closing property: an honest client provisions this boot (after waiting out any PoP lock-out). */
  async provisions(): Promise<void> {
    const wait = this.st.throttle.until - (this.d.sched.now - this.d.resetAt);
    if (this.t.transport !== "http" && this.link.connected()) this.d.ble.disconnect();
    this.d.run(Math.max(0, wait) + 5000);
    const t = this.t.transport === "http" ? httpTransport(simHttpSend(this.d)) : await bleTransport(simCentral(this.d));
    let r;
    try {
      // After fuzzing prov-scan or custom-data the client also scans / sends custom data, as esp_prov does.
      r = await provision(t, {
        secVer: this.t.sec, pop: POP, ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => this.d.run(ms),
        ...(this.t.endpoint === "prov-scan" ? { scan: {} } : {}), ...(this.t.endpoint === "custom-data" ? { customData: "after the fuzz" } : {}),
      });
    } catch (e) {
      this.fail("honest client failed after the fuzz run: " + (e as Error).message);
    }
    if (!r.ok) this.fail("honest client did not reach Connected: " + r.state);
    const nets = expectedNetworks(FUZZ_WORLD).map((n) => n.ssid);
    if (this.t.endpoint === "prov-scan" && JSON.stringify(r.networks?.map((n) => n.ssid)) !== JSON.stringify(nets)) {
      this.fail("honest client's scan listed " + JSON.stringify(r.networks?.map((n) => n.ssid)) + ", expected " + JSON.stringify(nets));
    }
    if (this.t.endpoint === "custom-data" && r.customReply !== "SUCCESS") this.fail("honest client's custom data got " + JSON.stringify(r.customReply));
    this.checkDevice();
  }
}

export function rightProof(shared: Uint8Array, pop: string, random: Uint8Array, devPub: Uint8Array): Uint8Array {
  let key = Buffer.from(shared);
  if (pop) {
    const h = nodeCrypto.createHash("sha256").update(pop).digest();
    key = Buffer.from(key.map((b, i) => b ^ h[i]!));
  }
  return new Uint8Array(nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(random)).update(devPub));
}

export interface RunOptions { seed: number; frames: number; timeLimitMs?: number; chunk?: number; print?: (s: string) => void; provisionAtEnd?: boolean }

/** Fuzzes one target until `frames` fuzzed frames (or the time limit); throws FuzzFailure on a property violation. */
export async function fuzzTarget(bundle: string, t: Target, o: RunOptions): Promise<FuzzStats> {
  const d = bootDevice(bundle, t);
  const f = new Fuzzer(d, t);
  const t0 = performance.now();
  // Cases per fast-check run: given, or 25 doubling up to 500 (a fixed schedule: the same seed replays the
  // same cases on any host). A run stops at --frames (the remaining cases are skipped) and at the time limit.
  let chunk = o.chunk ?? 25;
  const arb = caseArb(t, f.link.maxRequest);
  let failure: FuzzFailure | undefined;
  for (let k = 0; f.stats.frames < o.frames; k++) {
    if (o.timeLimitMs !== undefined && performance.now() - t0 > o.timeLimitMs) break;
    const seed = (o.seed + k * 7919) | 0;
    const left = o.timeLimitMs === undefined ? undefined : Math.max(1, o.timeLimitMs - (performance.now() - t0));
    try {
      fc.assert(fc.property(arb, (steps) => {
        if (f.stats.frames >= o.frames) return;
        try { f.runCase(steps); } catch (e) { if (e instanceof FuzzFailure) failure = e; throw e; }
      }), { seed, numRuns: chunk, endOnFailure: true, ...(left === undefined ? {} : { interruptAfterTimeLimit: left }) });
    } catch (e) {
      if (failure) {
        failure.message += `\n  reproduce: npm run fuzz -- --endpoint ${t.endpoint} --sec ${t.sec} --transport ${t.transport || "ble"} --seed ${o.seed} --frames ${o.frames} (chunk ${k} of ${chunk} cases, fast-check seed ${seed})`;
        throw failure;
      }
      throw e;
    }
    if (o.chunk === undefined && chunk < 500) chunk *= 2;
    else o.print?.(`  ${targetName(t)}: ${f.stats.frames} frames, ${f.stats.drops} drops, ${Math.round(f.stats.frames / ((performance.now() - t0) / 1000))} frames/s`);
  }
  f.stats.ms = performance.now() - t0;
  if (o.provisionAtEnd !== false) await f.provisions();
  return f.stats;
}

/** A corpus entry: the steps of a case that once failed, replayed on a fresh device. */
export interface CorpusEntry { name: string; target: Target; note: string; steps: Step[] }

export async function replay(bundle: string, c: CorpusEntry): Promise<FuzzStats> {
  const f = new Fuzzer(bootDevice(bundle, c.target), c.target);
  f.runCase(c.steps);
  await f.provisions();
  return f.stats;
}
