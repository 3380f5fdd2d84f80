/**
 * Security 2 fuzzing (fast-check) through a Security 2 bundle in the simulator, over BLE and SoftAP/HTTP: hostile
 * sessions — SessionCmd0 with a short, long, zero, N-valued or random A, without a username, or with its bytes
 * mutated; SessionCmd1 with the right proof, a wrong one or a mutated one; encrypted requests to custom-data
 * that are right, replayed, truncated, bit-flipped or garbage — interleaved with reconnects and device time.
 * Properties after every frame, from what ESP-IDF v5.5's security2.c does:
 *   - no "Uncaught …" line, no reboot;
 *   - a refused frame drops the link (BLE) / gets no 200 (HTTP), an accepted one is answered, and the answer is
 *     right: Resp0 carries a B and the salt, Resp1 the device proof H(A | M | K) the client checks, an encrypted
 *     reply opens under the session's key and nonce and says SUCCESS;
 *   - wrong proofs count for the PoP brake: a Cmd0 well inside a lock-out is refused, one well outside is not;
 * and at the end an honest client (esp_prov's steps) provisions the same boot.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import nodeCrypto from "node:crypto";
import fc from "fast-check";
import { decode, encode } from "../../src/proto/codec";
import { D_SessionData, SessionData } from "../../src/proto/schema.gen";
import { lockoutMs } from "../../src/protocomm/throttle";
import { SimDevice } from "../sim/device";
import { provision } from "../client/esp-prov";
import { bleTransport, simCentral } from "../client/transport";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { gcmSession, Srp6aClient } from "../client/srp6a";
import { N, N_LEN, toBytes } from "../../tools/srp.mjs";
import { bleLink, FuzzLink, httpLink } from "./link";
import { checkDevice, FUZZ_WORLD, FuzzFailure, FuzzStats, mutate, Mut, POP, RunOptions } from "./fuzz";

export const USER = "wifiprov";
export type Sec2Transport = "ble" | "http";

export type Sec2Step =
  | { t: "cmd0"; a: "good" | "zero" | "n" | "short" | "long" | "random" | "nouser"; len: number; mut: Mut[] }
  | { t: "cmd1"; p: "good" | "wrong" | "short"; mut: Mut[] }
  | { t: "enc"; e: "good" | "replay" | "truncate" | "flip" | "garbage"; n: number }
  | { t: "reconnect" }
  | { t: "wait"; ms: number };

const mutArb = fc.array(fc.tuple(fc.nat(5), fc.nat(500), fc.nat(255), fc.integer({ min: 1, max: 8 })), { maxLength: 2 });
const stepArb: fc.Arbitrary<Sec2Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("cmd0" as const), a: fc.constantFrom("good", "good", "zero", "n", "short", "long", "random", "nouser") as fc.Arbitrary<"good">, len: fc.integer({ min: 1, max: 90 }), mut: fc.oneof({ weight: 4, arbitrary: fc.constant([] as Mut[]) }, mutArb) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("cmd1" as const), p: fc.constantFrom("good", "good", "wrong", "short") as fc.Arbitrary<"good">, mut: fc.oneof({ weight: 4, arbitrary: fc.constant([] as Mut[]) }, mutArb) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("enc" as const), e: fc.constantFrom("good", "good", "replay", "truncate", "flip", "garbage") as fc.Arbitrary<"good">, n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "reconnect" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("wait" as const), ms: fc.constantFrom(100, 5000, 12000) }) },
);
/** A case: most start from an honest handshake (so the GCM steps meet an established session), then the steps. */
export const sec2CaseArb = fc.tuple(fc.boolean(), fc.boolean(), fc.array(stepArb, { minLength: 1, maxLength: 8 }))
  .map(([hs, hs2, steps]): Sec2Step[] => (hs || hs2 ? [{ t: "cmd0", a: "good", len: 1, mut: [] }, { t: "cmd1", p: "good", mut: [] }, ...steps] : steps));

/** Builds the Security 2 bundles (SoftAP and BLE, fixed password POP). */
export async function sec2Bundles(): Promise<Record<Sec2Transport, string>> {
  const { build } = await import("../../tools/build.mjs");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fuzz2-"));
  const out = {} as Record<Sec2Transport, string>;
  for (const [tr, transport] of [["ble", 'CONFIG_PROV_TRANSPORT="ble"\nCONFIG_PROV_BLE_MTU=517'], ["http", 'CONFIG_PROV_TRANSPORT="softap"']] as const) {
    const cfg = path.join(dir, `${tr}.sdkconfig`);
    fs.writeFileSync(cfg, `${transport}\nCONFIG_PROV_SECURITY_VERSION=2\nCONFIG_PROV_SEC2_USERNAME="${USER}"\nCONFIG_PROV_POP_MODE="fixed"\nCONFIG_PROV_POP="${POP}"\n`);
    const file = path.join(dir, `${tr}.js`);
    await build({ board: "esp32", config: cfg, out: file });
    out[tr] = fs.readFileSync(file, "latin1");
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

const session = (m: object) => encode(D_SessionData, { sec_ver: 2, sec2: m });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

class Sec2Fuzzer {
  link: FuzzLink;
  stats: FuzzStats;
  trace: string[] = [];
  private logFrom = 0;
  /** Model: the client's SRP after an accepted Cmd0; the GCM session once established; the last sealed request. */
  private srp?: Srp6aClient;
  private salt?: Uint8Array;
  private B?: Uint8Array;
  private gcm?: ReturnType<typeof gcmSession>;
  private last?: Uint8Array;
  /** The PoP brake as throttle.ts: failures, lock-out end (device ms since boot). */
  private fails = 0;
  private until = 0;

  constructor(public d: SimDevice, public tr: Sec2Transport) {
    this.link = tr === "http" ? httpLink(d) : bleLink(d);
    this.stats = { target: `prov-session/sec2${tr === "http" ? "/http" : ""}`, frames: 0, protocolFrames: 0, drops: 0, reconnects: 0, cases: 0, sessions: 0, ms: 0 };
  }
  private now() { return this.d.sched.now - this.d.resetAt; }
  private fail(msg: string): never {
    const tail = this.d.log.slice(-12).map((l) => "    | " + l.line).join("\n");
    throw new FuzzFailure(`${this.stats.target}: ${msg}\n  frames since the last reconnect:\n${this.trace.map((s) => "    " + s).join("\n")}\n  device log tail:\n${tail}`);
  }
  private checkDevice() { this.logFrom = checkDevice(this.d, this.logFrom, (m) => this.fail(m)); }
  private forget() { this.srp = this.salt = this.B = this.gcm = this.last = undefined; }
  reconnect() {
    this.link.reconnect();
    this.forget();
    this.stats.reconnects++;
    this.trace = ["reconnect"];
  }

  /**
   * One frame. `expect`: true = must be answered, false = must be refused, undefined = either (mutated bytes);
   * a refused frame ends the session (the link is reopened before the next).
   */
  private frame(ep: string, req: Uint8Array, expect: boolean | undefined, why: string): Uint8Array | undefined {
    if (!this.link.connected()) this.reconnect();
    if (req.length > this.link.maxRequest) req = req.subarray(0, this.link.maxRequest);
    this.trace.push(`${ep} ${hex(req).slice(0, 80)}${req.length > 40 ? "…" : ""} (${req.length} B) — expect ${expect === undefined ? "either" : expect ? "reply" : "drop"}: ${why}`);
    if (this.trace.length > 200) this.trace.splice(0, 100);
    const r = this.link.exchange(ep, req);
    this.stats.frames++;
    this.checkDevice();
    if (r.dropped) {
      this.stats.drops++;
      if (expect === true) this.fail(`${ep}: dropped (${r.why}), expected a reply (${why})`);
      this.forget();
      if (this.link.connected()) this.reconnect();
      return undefined;
    }
    if (expect === false) this.fail(`${ep}: answered ${hex(r.bytes).slice(0, 80)}, expected a drop (${why})`);
    return r.bytes;
  }

  /** Is a Cmd0 now inside (true), outside (false) or too near the edge of (undefined) a lock-out? */
  private locked(): boolean | undefined {
    const t = this.now();
    if (t < this.until - 2000) return true;
    if (t > this.until + 2000) return false;
    return undefined;
  }

  private cmd0(s: Extract<Sec2Step, { t: "cmd0" }>) {
    const srp = new Srp6aClient(USER, POP);
    const A = s.a === "good" ? srp.Abytes : s.a === "zero" ? new Uint8Array(N_LEN) : s.a === "n" ? toBytes(N, N_LEN)
      : s.a === "short" ? nodeCrypto.randomBytes(N_LEN - s.len) : s.a === "long" ? nodeCrypto.randomBytes(N_LEN + s.len) : nodeCrypto.randomBytes(N_LEN);
    const base = session({ msg: 0, sc0: { client_username: s.a === "nouser" ? new Uint8Array() : Buffer.from(USER), client_pubkey: s.a === "nouser" ? srp.Abytes : A } });
    const req = s.mut.length ? mutate(base, s.mut, this.link.maxRequest) : base;
    const lock = this.locked();
    const valid = ["good", "random"].includes(s.a) && !s.mut.length;
    const expect = s.mut.length || lock === undefined ? undefined : valid && !lock;
    this.forget();
    const r = this.frame("prov-session", req, expect, `Cmd0 A ${s.a}${s.mut.length ? " mutated" : ""}${lock ? " (locked out)" : ""}`);
    if (!r) return;
    this.stats.protocolFrames++;
    let m: SessionData;
    try { m = decode(D_SessionData, r); } catch { return this.fail("Resp0 does not decode"); }
    const sr0 = m.sec2?.sr0;
    if (m.sec_ver !== 2 || m.sec2?.msg !== 1 || !sr0?.device_pubkey?.length || sr0.device_salt?.length !== 16) this.fail("Resp0 is not a Security 2 SessionResp0 with B and a 16-byte salt");
    if (s.a === "good" && !s.mut.length) { this.srp = srp; this.salt = sr0.device_salt; this.B = sr0.device_pubkey; }
  }

  private cmd1(s: Extract<Sec2Step, { t: "cmd1" }>) {
    const srp = this.srp;
    const M = srp && s.p === "good" ? srp.challenge(this.salt!, this.B!) : s.p === "short" ? nodeCrypto.randomBytes(63) : nodeCrypto.randomBytes(64);
    const base = session({ msg: 2, sc1: { client_proof: M } });
    const req = s.mut.length ? mutate(base, s.mut, this.link.maxRequest) : base;
    const right = !!srp && s.p === "good" && !s.mut.length;
    const counted = !!srp && s.p === "wrong" && !s.mut.length; // a full-length wrong proof in state 1
    this.srp = undefined;
    const r = this.frame("prov-session", req, s.mut.length ? undefined : right, `Cmd1 proof ${s.p}${srp ? "" : " without an accepted Cmd0"}${s.mut.length ? " mutated" : ""}`);
    if (counted) {
      this.fails++;
      const ms = lockoutMs(this.fails);
      if (ms) this.until = this.now() + ms;
    }
    if (!r) return;
    this.stats.protocolFrames++;
    if (!right) { this.forget(); return; } // a mutated proof that was still accepted: not a state the model follows
    const sr1 = (decode(D_SessionData, r) as SessionData).sec2?.sr1;
    if (!sr1?.device_proof || !srp!.verify(sr1.device_proof)) this.fail("Resp1's device proof is not H(A | M | K)");
    if (sr1.device_nonce?.length !== 12 || Buffer.from(sr1.device_nonce).readUInt32BE(8) !== 1) this.fail("Resp1's nonce is not 8 bytes + counter 1");
    this.gcm = gcmSession(srp!.K!, sr1.device_nonce, 1);
    this.fails = 0;
    this.until = 0;
    this.stats.sessions++;
  }

  private enc(s: Extract<Sec2Step, { t: "enc" }>) {
    const g = this.gcm;
    if (!g) {
      this.frame("custom-data", nodeCrypto.randomBytes(16 + s.n), false, "encrypted request without a session");
      return;
    }
    if (s.e === "good") {
      const req = g.encrypt(Buffer.from("fuzz " + s.n));
      this.last = req;
      const r = this.frame("custom-data", req, true, "a right GCM request");
      if (!r) return;
      let plain: Uint8Array;
      try { plain = g.decrypt(r); } catch (e) { return this.fail("the reply does not open under the session's key and nonce: " + (e as Error).message); }
      if (Buffer.from(plain).toString() !== "SUCCESS") this.fail("custom-data answered " + JSON.stringify(Buffer.from(plain).toString()));
      return;
    }
    const probe = g.encrypt(Buffer.from("probe")); // what a right request would be now (the client's counter moves on)
    const bad = s.e === "replay" && this.last ? this.last
      : s.e === "truncate" ? probe.subarray(0, Math.max(0, probe.length - s.n))
      : s.e === "flip" ? (() => { const b = Buffer.from(probe); b[s.n % b.length]! ^= 1 << (s.n % 8); return b; })()
      : nodeCrypto.randomBytes(s.n);
    this.frame("custom-data", bad.length ? bad : Uint8Array.of(0), false, `a ${s.e} GCM request`);
  }

  run(s: Sec2Step) {
    if (s.t === "reconnect") return this.reconnect();
    if (s.t === "wait") return this.d.run(s.ms);
    if (s.t === "cmd0") return this.cmd0(s);
    if (s.t === "cmd1") return this.cmd1(s);
    return this.enc(s);
  }

  async provisions() {
    if (this.tr === "ble" && this.link.connected()) this.d.ble.disconnect();
    this.d.run(Math.max(0, this.until - this.now()) + 5000);
    const t = this.tr === "http" ? httpTransport(simHttpSend(this.d)) : await bleTransport(simCentral(this.d));
    try {
      const r = await provision(t, { secVer: 2, sec2User: USER, sec2Pwd: POP, ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => this.d.run(ms), customData: "after" });
      if (!r.ok) this.fail("honest client did not reach Connected: " + r.state);
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      this.fail("honest client failed after the fuzz run: " + (e as Error).message);
    }
    this.checkDevice();
  }
}

/** Fuzzes Security 2 over one transport for `frames` frames; throws FuzzFailure on a violated property. */
export async function fuzzSec2(bundle: string, tr: Sec2Transport, o: RunOptions): Promise<FuzzStats> {
  const d = new SimDevice({ world: FUZZ_WORLD, slowdown: 0 });
  if (tr === "http") d.nvs.ble = false;
  d.install(bundle);
  d.boot();
  d.run(5000);
  const f = new Sec2Fuzzer(d, tr);
  const t0 = performance.now();
  let failure: FuzzFailure | undefined;
  try {
    fc.assert(fc.property(sec2CaseArb, (steps) => {
      if (f.stats.frames >= o.frames || (o.timeLimitMs !== undefined && performance.now() - t0 > o.timeLimitMs)) return;
      f.stats.cases++;
      try { for (const s of steps) f.run(s); } catch (e) { if (e instanceof FuzzFailure) failure = e; throw e; }
    }), { seed: o.seed, numRuns: Math.max(1, Math.ceil(o.frames / 3)), endOnFailure: true });
  } catch (e) {
    if (failure) {
      failure.message += `\n  reproduce: npm run fuzz -- --sec 2 --transport ${tr} --seed ${o.seed} --frames ${o.frames}`;
      throw failure;
    }
    throw e;
  }
  await f.provisions();
  f.stats.ms = performance.now() - t0;
  return f.stats;
}
