/**
 * What ESP-IDF's protocomm would do with a frame, written from the protocol rather than from the firmware:
 * protocomm.c drops the link whenever a handler fails ("Invalid content received, killing connection");
 * proto-ver never fails; security0.c accepts only a SessionData with sec_ver 0 and an S0_Session_Command;
 * security1.c runs Cmd0 → Resp0 → Cmd1 → Resp1 and fails on anything else; wifi_config.c answers
 * GetStatus/SetConfig/ApplyConfig with msg + 1 and fails on any other message type. Frames are decoded with
 * the repo's codec (pinned against protobufjs in codec.test.ts). On top of ESP-IDF: the PoP throttle
 * (src/protocomm/throttle.ts policy: 3 free failures, then 10 s doubling up to 300 s).
 */
import nodeCrypto from "node:crypto";
import nacl from "tweetnacl";
import { decode } from "../../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload } from "../../src/proto/schema.gen";
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

/** Zero shared secret for any device key: the point is in the small subgroup (RFC 7748 §6.1). */
export function lowOrder(pub: Uint8Array): boolean {
  const k = new Uint8Array(32).fill(0x55);
  return nacl.scalarMult(k, pub).every((b) => b === 0);
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
}

export function initialState(secVer: 0 | 1, pop: string): ModelState {
  return { secVer, pop, linked: false, sec0: false, sec1: { state: 0 }, pending: false, throttle: { n: 0, until: 0 } };
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
  if (ep === "prov-config") return config(s, req);
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

function config(s: ModelState, req: Uint8Array): Expect {
  if (!established(s)) return { drop: true, why: "session not established" };
  const crypt = s.secVer === 1 ? s.sec1.crypt! : (d: Uint8Array) => d;
  const m = tryDecode(D_WiFiConfigPayload, req);
  if (!m) return { drop: true, why: "WiFiConfigPayload does not decode" };
  const msg = m.msg || 0;
  if (msg !== 0 && msg !== 2 && msg !== 4) return { drop: true, why: "WiFiConfig msg type " + msg };
  let want = -1;
  if (msg === 2) {
    const c = m.cmd_set_config || {};
    const ssid = c.ssid?.length || 0, pass = c.passphrase?.length || 0, bssid = c.bssid?.length || 0;
    if (ssid > 31 || pass > 63 || (bssid !== 0 && bssid !== 6)) want = 4; // InvalidArgument (Espruino keeps 31/63)
  }
  if (msg === 4) want = s.pending ? 0 : 5;
  return {
    drop: false, why: "WiFiConfig " + msg,
    check: (r) => {
      const d = tryDecode(D_WiFiConfigPayload, crypt(r));
      if (!d || d.msg !== msg + 1) return "reply msg " + d?.msg + " for " + msg;
      const st = msg === 0 ? d.resp_get_status?.status : msg === 2 ? d.resp_set_config?.status : d.resp_apply_config?.status;
      if (want >= 0 && (st || 0) !== want) return "status " + (st || 0) + ", expected " + want;
      if (msg === 0 && ![0, 1, 2, 3].includes(d.resp_get_status?.sta_state || 0)) return "sta_state " + d.resp_get_status.sta_state;
      if (msg === 2) s.pending = (st || 0) === 0 ? true : s.pending;
      if (msg === 4 && (st || 0) === 0) s.pending = false;
      return undefined;
    },
  };
}
