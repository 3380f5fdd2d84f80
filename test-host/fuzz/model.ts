/**
 * What ESP-IDF's protocomm would do with a frame, written from the protocol rather than from the firmware:
 * protocomm.c drops the link whenever a handler fails ("Invalid content received, killing connection");
 * proto-ver never fails; security0.c accepts only a SessionData with sec_ver 0 and an S0_Session_Command;
 * security1.c runs Cmd0 → Resp0 → Cmd1 → Resp1 and fails on anything else; wifi_config.c answers
 * GetStatus/SetConfig/ApplyConfig with msg + 1 and fails on any other message type; wifi_scan.c and wifi_ctrl.c
 * likewise for ScanStart/ScanStatus/ScanResult and Reset/Reprov, with the status at the top level; a custom
 * endpoint (ESP-IDF's example) answers "SUCCESS". Every encrypted endpoint fails outside an established
 * session under security 1 (protocomm.c: decrypt fails). Frames are decoded with
 * the repo's codec (pinned against protobufjs in codec.test.ts). On top of ESP-IDF: the PoP throttle
 * (src/protocomm/throttle.ts policy: 3 free failures, then 10 s doubling up to 300 s).
 */
import nodeCrypto from "node:crypto";
import { decode, Desc } from "../../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload, D_WiFiCtrlPayload, D_WiFiScanPayload } from "../../src/proto/schema.gen";
import { RadioWorld } from "../sim/wifi";
import { x25519Shared } from "../client/esp-prov";

export const THROTTLE = { free: 3, baseMs: 10000, capMs: 300000 };
/** The model and the device read the clock at slightly different moments: decisions this close are either. */
export const CLOCK_SLACK_MS = 2000;

export function lockoutMs(n: number): number {
  return n < THROTTLE.free ? 0 : Math.min(THROTTLE.capMs, THROTTLE.baseMs * 2 ** (n - THROTTLE.free));
}

export interface ClientKey { priv: nodeCrypto.KeyObject; pub: Uint8Array }

export function clientKey(seed: Uint8Array): ClientKey {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(seed)]);
  const priv = nodeCrypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  const pub = new Uint8Array(nodeCrypto.createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(-32));
  return { priv, pub };
}

const PROBE = clientKey(new Uint8Array(32).fill(0x55));
/**
 * Zero shared secret for any device key: the point is in the small subgroup (RFC 7748 §6.1). node:crypto
 * (OpenSSL) refuses an all-zero X25519 result ("failed during derivation"), as tweetnacl's scalarMult
 * would return zeros, at a fraction of the cost.
 */
export function lowOrder(pub: Uint8Array): boolean {
  try {
    x25519Shared(PROBE.priv, pub);
    return false;
  } catch {
    return true;
  }
}

const same = (a?: Uint8Array, b?: Uint8Array) => !!a && !!b && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

function tryDecode(d: Parameters<typeof decode>[0], b: Uint8Array): any {
  try { return decode(d, b); } catch { return undefined; }
}

export interface Sec1Client {
  state: 0 | 1 | 2;
  /** The client key whose public half went into the accepted Cmd0, when the fuzzer knows it. */
  key?: ClientKey;
  cpub?: Uint8Array;
  devPub?: Uint8Array;
  devRandom?: Uint8Array;
  crypt?: (d: Uint8Array) => Uint8Array;
}

export interface ModelState {
  secVer: 0 | 1;
  pop: string;
  linked: boolean;
  sec0: boolean;
  sec1: Sec1Client;
  pending: boolean;
  throttle: { n: number; until: number };
  /** The key the fuzzer made its last Cmd0 from: if the Cmd0 that reached the device carries its public half, the secret is known. */
  lastKey?: ClientKey;
  /** SSID of the credentials SetConfig accepted (pending = true). */
  pendingSsid?: string;
  /**
   * The station, global to the boot: nothing applied, or an attempt (the fuzzer never sends the right
   * password) that is still connecting before `lo`, has failed after `hi`, and may be either in between.
   */
  sta: { applied: boolean; lo: number; hi: number };
  /** The Wi-Fi scan, global to the boot: never started, or finished for sure after `hi` and not before `lo`. */
  scan: { started: boolean; lo: number; hi: number };
  /** The access points the device can hear (its simulated radio world). */
  world: RadioWorld;
}

export function initialState(secVer: 0 | 1, pop: string, world: RadioWorld = { aps: [] }): ModelState {
  return {
    secVer, pop, linked: false, sec0: false, sec1: { state: 0 }, pending: false, throttle: { n: 0, until: 0 },
    sta: { applied: false, lo: 0, hi: 0 }, scan: { started: false, lo: 0, hi: 0 }, world,
  };
}

/**
 * Device-time delays the model predicts from: src/main.ts connects 1 s after ApplyConfig (applyDelayMs, as
 * ESP-IDF's manager); test-host/sim/wifi.ts fails a wrong password after 1.5 s and an absent SSID after 3 s,
 * and finishes a scan after 1.5 s. WIFI_SLACK_MS covers the request's own trip (a connection interval or
 * two) and the event dispatch: an outcome this close to the predicted moment may be either.
 */
export const WIFI = { applyMs: 1000, wrongPassMs: 1500, noApMs: 3000, scanMs: 1500, slackMs: 400 };
/** ESP-IDF's CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES (the firmware's SCAN_MAX_ENTRIES). */
export const SCAN_MAX = 16;

/** "none" (nothing applied or state reset), "connecting", "failed", or "either" close to the failure. */
export function staAt(s: ModelState, now: number): "none" | "connecting" | "failed" | "either" {
  if (!s.sta.applied) return "none";
  return now < s.sta.lo ? "connecting" : now > s.sta.hi ? "failed" : "either";
}

/** Whether the scan has finished at `now` (undefined: too close to call). */
export function scanDone(s: ModelState, now: number): boolean | undefined {
  const c = s.scan;
  if (!c.started) return false;
  return now > c.hi ? true : now < c.lo ? false : undefined;
}

/** The networks the device keeps from a scan, as the firmware ranks them (strongest first, scan order on ties). */
export function expectedNetworks(w: RadioWorld) {
  const aps = w.aps.filter((a) => a.reachable !== false).map((a, i) => ({ ssid: a.ssid, rssi: a.rssi ?? -50, channel: a.channel || 6, i }));
  return aps.sort((a, b) => b.rssi - a.rssi || a.i - b.i).slice(0, SCAN_MAX);
}

export function newSession(s: ModelState) {
  s.linked = true;
  s.sec0 = false;
  s.sec1 = { state: 0 };
}

/** The expected outcome: drop (true/false/"either") and a check of the reply that returns a complaint. */
export interface Expect {
  drop: boolean | "either";
  why: string;
  /** Checks a reply; returns a complaint or undefined. */
  check?: (reply: Uint8Array) => string | undefined;
  onReply?: (reply: Uint8Array) => void;
  /** `now`: device time when the drop was seen (a failure is stamped when it happens, after X25519). */
  onDrop?: (now: number) => void;
}

/**
 * Security 0 has no decrypt step, so protocomm_req_handle calls the prov-config handler on any open link
 * (protocomm.c: `if (pc->sec && pc->sec->decrypt) … else ep->req_handler(…)`), session command or not.
 */
export function established(s: ModelState): boolean {
  return s.secVer === 0 ? s.linked : s.sec1.state === 2;
}

/** Decides a frame's outcome and how the state moves on (onReply / onDrop; the runner marks the link down on a drop). */
export function expectFrame(s: ModelState, ep: string, req: Uint8Array, now: number): Expect {
  if (ep === "proto-ver") {
    return {
      drop: false, why: "proto-ver never fails",
      check: (r) => {
        let j: any;
        try { j = JSON.parse(Buffer.from(r).toString("latin1")); } catch { return "proto-ver reply is not JSON"; }
        return j?.prov?.ver === "v1.1" && j.prov.sec_ver === s.secVer ? undefined : "proto-ver reply " + JSON.stringify(j);
      },
    };
  }
  if (ep === "prov-session") return s.secVer === 0 ? sec0Session(s, req) : sec1Session(s, req, now);
  if (ep === "prov-config") return config(s, req, now);
  if (ep === "prov-scan") return scan(s, req, now);
  if (ep === "prov-ctrl") return ctrl(s, req, now);
  if (ep === "custom-data") return custom(s);
  return { drop: true, why: "no such endpoint" };
}

function sec0Session(s: ModelState, req: Uint8Array): Expect {
  const m = tryDecode(D_SessionData, req);
  if (!m) return { drop: true, why: "SessionData does not decode" };
  if ((m.sec_ver || 0) !== 0 || !m.sec0 || m.sec0.payload !== "sc" || (m.sec0.msg || 0) !== 0) return { drop: true, why: "not a security 0 session command" };
  return {
    drop: false, why: "S0 session command",
    check: (r) => {
      const d = tryDecode(D_SessionData, r);
      return d && (d.sec_ver || 0) === 0 && d.sec0?.msg === 1 && d.sec0.payload === "sr" && (d.sec0.sr.status || 0) === 0 ? undefined : "bad S0 response";
    },
    onReply: () => { s.sec0 = true; },
  };
}

function sec1Session(s: ModelState, req: Uint8Array, now: number): Expect {
  const m = tryDecode(D_SessionData, req);
  if (!m) return { drop: true, why: "SessionData does not decode" };
  if (m.sec_ver !== 1 || !m.sec1) return { drop: true, why: "not security 1" };
  const msg = m.sec1.msg || 0;
  if (msg === 0 && m.sec1.payload === "sc0") {
    const wait = s.throttle.until - now;
    const pub: Uint8Array | undefined = m.sec1.sc0.client_pubkey;
    const badLen = !pub || pub.length !== 32;
    const locked = wait > CLOCK_SLACK_MS, maybe = !locked && wait > -CLOCK_SLACK_MS;
    if (locked) return { drop: true, why: "PoP throttle: sessions refused" };
    if (badLen) return { drop: true, why: "client public key length" };
    const ok: Expect = {
      drop: false, why: "Cmd0",
      check: (r) => {
        const d = tryDecode(D_SessionData, r);
        const sr0 = d?.sec1?.sr0;
        return d?.sec_ver === 1 && d.sec1.msg === 1 && sr0 && (sr0.status || 0) === 0 && sr0.device_pubkey?.length === 32 && sr0.device_random?.length === 16 ? undefined : "bad Resp0";
      },
      onReply: (r) => {
        const sr0 = decode(D_SessionData, r).sec1.sr0;
        s.sec1 = { state: 1, cpub: pub, devPub: sr0.device_pubkey, devRandom: sr0.device_random, key: s.lastKey && same(s.lastKey.pub, pub) ? s.lastKey : undefined };
      },
    };
    if (maybe) ok.drop = "either";
    return ok;
  }
  if (msg === 2 && m.sec1.payload === "sc1") {
    const c = s.sec1;
    if (c.state !== 1) return { drop: true, why: "Cmd1 out of order" };
    const v: Uint8Array | undefined = m.sec1.sc1.client_verify_data;
    if (!v || v.length !== 32) return { drop: true, why: "verify data length" };
    if (lowOrder(c.cpub!)) return { drop: true, why: "zero shared secret" };
    // The device stamps the lock-out when Cmd1 fails, i.e. once the shared secret is ready: at the drop.
    const fail = (at: number) => {
      s.throttle.n++;
      const ms = lockoutMs(s.throttle.n);
      if (ms) s.throttle.until = at + ms;
    };
    if (!c.key) return { drop: true, why: "wrong key (client key unknown): PoP failure", onDrop: fail };
    let key = Buffer.from(x25519Shared(c.key.priv, c.devPub!));
    if (s.pop) {
      const h = nodeCrypto.createHash("sha256").update(s.pop).digest();
      key = Buffer.from(key.map((b, i) => b ^ h[i]!));
    }
    const cipher = nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(c.devRandom!));
    const crypt = (d: Uint8Array) => new Uint8Array(cipher.update(d));
    if (!same(crypt(c.devPub!), v)) return { drop: true, why: "verify data mismatch: PoP failure", onDrop: fail };
    return {
      drop: false, why: "Cmd1 with the right key",
      check: (r) => {
        const dv = tryDecode(D_SessionData, r)?.sec1?.sr1?.device_verify_data;
        return dv && same(crypt(dv), c.cpub) ? undefined : "device verify data wrong";
      },
      onReply: () => {
        c.state = 2;
        c.crypt = crypt;
        s.throttle = { n: 0, until: 0 };
      },
    };
  }
  return { drop: true, why: "security 1 message type " + msg };
}

/** The plaintext view of an encrypted endpoint's replies: the session's CTR stream under security 1. */
function plain(s: ModelState): (d: Uint8Array) => Uint8Array {
  return s.secVer === 1 ? s.sec1.crypt! : (d) => d;
}

/**
 * What wifi_config.c, wifi_scan.c and wifi_ctrl.c have in common: no session (security 1) or a message that
 * does not decode or has no handler for its msg number fails the exchange (the drop returned as `drop`);
 * else the decoded message, its msg number and the reply's decryption.
 */
function command(s: ModelState, req: Uint8Array, d: Desc, name: string, valid: number[]):
  { drop: Expect } | { m: any; msg: number; crypt: (d: Uint8Array) => Uint8Array } {
  if (!established(s)) return { drop: { drop: true, why: "session not established" } };
  const m = tryDecode(d, req);
  if (!m) return { drop: { drop: true, why: name + "Payload does not decode" } };
  const msg = m.msg || 0;
  if (!valid.includes(msg)) return { drop: { drop: true, why: name + " msg type " + msg } };
  return { m, msg, crypt: plain(s) };
}

function config(s: ModelState, req: Uint8Array, now: number): Expect {
  const c = command(s, req, D_WiFiConfigPayload, "WiFiConfig", [0, 2, 4]);
  if ("drop" in c) return c.drop;
  const { m, msg, crypt } = c;
  let want = -1;
  if (msg === 2) {
    const c = m.cmd_set_config || {};
    const ssid = c.ssid?.length || 0, pass = c.passphrase?.length || 0, bssid = c.bssid?.length || 0;
    if (ssid > 31 || pass > 63 || (bssid !== 0 && bssid !== 6)) want = 4; // InvalidArgument (Espruino keeps 31/63)
  }
  // ApplyConfig: refused without credentials, and while an attempt still connects (src/prov/manager.ts, as
  // ESP-IDF's wifi_prov_mgr_configure_sta); either answer while that attempt may just have failed.
  if (msg === 4) {
    const sta = staAt(s, now);
    want = !s.pending || sta === "connecting" ? 5 : sta === "either" ? -1 : 0;
  }
  return {
    drop: false, why: "WiFiConfig " + msg,
    check: (r) => {
      const d = tryDecode(D_WiFiConfigPayload, crypt(r));
      if (!d || d.msg !== msg + 1) return "reply msg " + d?.msg + " for " + msg;
      const st = msg === 0 ? d.resp_get_status?.status : msg === 2 ? d.resp_set_config?.status : d.resp_apply_config?.status;
      if (want >= 0 && (st || 0) !== want) return "status " + (st || 0) + ", expected " + want;
      if (msg === 0) {
        // WifiStationState: Connected 0, Connecting 1, Disconnected 2, ConnectionFailed 3.
        const got = d.resp_get_status?.sta_state || 0, sta = staAt(s, now);
        const ok = sta === "none" ? [2] : sta === "connecting" ? [1] : sta === "failed" ? [3] : [1, 3];
        if (!ok.includes(got)) return `sta_state ${got}, expected ${ok.join(" or ")} (station ${sta})`;
      }
      if (msg === 2 && (st || 0) === 0) {
        s.pending = true;
        s.pendingSsid = Buffer.from(m.cmd_set_config?.ssid || []).toString("latin1");
      }
      if (msg === 4 && (st || 0) === 0) {
        const ap = s.world.aps.find((a) => a.ssid === s.pendingSsid && a.reachable !== false);
        const failAt = now + WIFI.applyMs + (ap ? WIFI.wrongPassMs : WIFI.noApMs);
        s.pending = false;
        s.sta = { applied: true, lo: failAt - WIFI.slackMs, hi: failAt + WIFI.slackMs };
      }
      return undefined;
    },
  };
}

function scan(s: ModelState, req: Uint8Array, now: number): Expect {
  const c = command(s, req, D_WiFiScanPayload, "WiFiScan", [0, 2, 4]);
  if ("drop" in c) return c.drop;
  const { m, msg, crypt } = c;
  const done = scanDone(s, now), nets = expectedNetworks(s.world);
  const reply = (r: Uint8Array): any => {
    const d = tryDecode(D_WiFiScanPayload, crypt(r));
    return d && d.msg === msg + 1 ? d : undefined;
  };
  if (msg === 0) {
    const blocking = !!m.cmd_scan_start?.blocking;
    return {
      drop: false, why: "ScanStart" + (blocking ? " (blocking)" : ""),
      check: (r) => {
        const d = reply(r);
        if (!d || (d.status || 0) !== 0 || !d.resp_scan_start) return "bad RespScanStart";
        // A blocking start answers once a scan has finished; else a scan that is not running starts now,
        // one that is running goes on (and one that may just have finished may or may not start again).
        if (blocking) s.scan = { started: true, lo: -Infinity, hi: -Infinity };
        else if (done === true || !s.scan.started) s.scan = { started: true, lo: now + WIFI.scanMs - WIFI.slackMs, hi: now + WIFI.scanMs + WIFI.slackMs };
        else if (done === undefined) s.scan = { started: true, lo: s.scan.lo, hi: now + WIFI.scanMs + WIFI.slackMs };
        return undefined;
      },
    };
  }
  if (msg === 2) {
    return {
      drop: false, why: "ScanStatus",
      check: (r) => {
        const d = reply(r), st = d?.resp_scan_status;
        if (!d || (d.status || 0) !== 0 || !st) return "bad RespScanStatus";
        const fin = !!st.scan_finished, n = st.result_count || 0;
        if (done !== undefined && fin !== done) return `scan_finished ${fin}, expected ${done}`;
        if (n !== (fin ? nets.length : 0)) return `result_count ${n} with scan_finished ${fin}, expected ${fin ? nets.length : 0}`;
        if (fin) s.scan = { started: true, lo: -Infinity, hi: -Infinity };
        return undefined;
      },
    };
  }
  const q = m.cmd_scan_result || {}, from = q.start_index || 0, count = q.count || 0;
  return {
    drop: false, why: `ScanResult ${from}+${count}`,
    check: (r) => {
      const d = reply(r);
      if (!d || !d.resp_scan_result) return "bad RespScanResult";
      const st = d.status || 0, got: any[] = d.resp_scan_result.entries || [];
      // Out of range or before the scan finished: InternalError (wifi_scan.c when the manager has no such
      // index). A zero count asks the manager nothing in ESP-IDF (Success); the firmware checks the scan
      // state first (InternalError before it finished): either is accepted there.
      const inRange = from + count <= nets.length;
      if (st === 5) {
        if (got.length) return "entries with InternalError";
        if (done === true && inRange) return `InternalError for ${from}+${count} of ${nets.length} finished results`;
        return undefined;
      }
      if (st !== 0) return "status " + st;
      if (done === false && count) return "Success before the scan finished";
      if (!inRange) return `Success for ${from}+${count} of ${nets.length} results`;
      if (got.length > count || (count && !got.length)) return `${got.length} entries for a count of ${count}`;
      for (let i = 0; i < got.length; i++) {
        const e = got[i], w = nets[from + i]!;
        if (Buffer.from(e.ssid || []).toString("latin1") !== w.ssid || (e.rssi || 0) !== w.rssi || (e.channel || 0) !== w.channel) return `entry ${from + i} is ${JSON.stringify(Buffer.from(e.ssid || []).toString("latin1"))}, expected ${JSON.stringify(w.ssid)}`;
      }
      if (count) s.scan = { started: true, lo: -Infinity, hi: -Infinity };
      return undefined;
    },
  };
}

function ctrl(s: ModelState, req: Uint8Array, now: number): Expect {
  const c = command(s, req, D_WiFiCtrlPayload, "WiFiCtrl", [1, 3]);
  if ("drop" in c) return c.drop;
  const { msg, crypt } = c;
  // Reset only after a failed attempt (wifi_prov_mgr_reset_sm_state_on_failure); Reprov always.
  const sta = staAt(s, now), ok = msg === 3 ? [0] : sta === "failed" ? [0] : sta === "either" ? [0, 5] : [5];
  return {
    drop: false, why: (msg === 1 ? "Reset" : "Reprov") + ` (station ${sta})`,
    check: (r) => {
      const d = tryDecode(D_WiFiCtrlPayload, crypt(r));
      if (!d || d.msg !== msg + 1 || !(msg === 1 ? d.resp_ctrl_reset : d.resp_ctrl_reprov)) return "bad ctrl reply";
      const st = d.status || 0;
      if (!ok.includes(st)) return `status ${st}, expected ${ok.join(" or ")}`;
      if (st === 0) {
        s.sta = { applied: false, lo: 0, hi: 0 };
        s.pending = false;
      }
      return undefined;
    },
  };
}

/** ESP-IDF's example custom endpoint (and this firmware's src/app/custom-endpoints.ts): any bytes → "SUCCESS". */
function custom(s: ModelState): Expect {
  if (!established(s)) return { drop: true, why: "session not established" };
  const crypt = plain(s);
  return {
    drop: false, why: "custom-data",
    check: (r) => (Buffer.from(crypt(r)).toString("latin1") === "SUCCESS" ? undefined : "reply is not SUCCESS"),
  };
}
