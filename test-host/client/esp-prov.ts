/**
 * A client that speaks what esp_prov speaks (tools/esp_prov: esp_prov.py, security/security{0,1,2}.py,
 * prov/wifi_prov.py), with its own crypto from node:crypto — X25519 and ONE AES-256-CTR cipher object
 * used for both directions, as security1.py does; SRP6a (srp6a.ts) and AES-256-GCM as security2.py — so it
 * checks the firmware rather than mirroring it.
 */
import nodeCrypto from "node:crypto";
import { decode, encode } from "../../src/proto/codec";
import {
  D_SessionData, D_WiFiConfigPayload, D_WiFiCtrlPayload, D_WiFiScanPayload, SessionData, WiFiConfigPayload, WiFiCtrlPayload, WiFiScanPayload,
} from "../../src/proto/schema.gen";
import { Transport } from "./transport";
import { gcmSession, Srp6aClient } from "./srp6a";

export interface ProvOptions {
  secVer?: 0 | 1 | 2;
  pop?: string;
  /** Security 2: username and password (esp_prov --sec2_username / --sec2_pwd). */
  sec2User?: string;
  sec2Pwd?: string;
  ssid: string;
  passphrase: string;
  era?: "modern" | "seed";
  /** proto-ver string for seed-era clients (default V0.1). */
  protoVer?: string;
  /** Sleeps between status polls (esp_prov: 5 s before every poll). */
  sleep: (ms: number) => Promise<void>;
  print?: (line: string) => void;
  /** Client private key for reproducible transcripts. */
  clientPriv?: Uint8Array;
  /** What proto-ver is probed with: esp_prov writes "none", the phone apps "ESP". */
  probe?: string;
  /** Before the credentials: list networks with prov-scan (esp_prov does when --ssid is absent). */
  scan?: ScanOptions;
  /** esp_prov --custom_data: sent to custom-data after the session; the reply lands in the result. */
  customData?: string;
}

export interface ScanOptions { blocking?: boolean; pageSize?: number; groupChannels?: number; periodMs?: number; passive?: boolean }
export interface ScannedAp { ssid: string; channel: number; rssi: number; bssid: string; auth: number }

export interface ProvResult {
  ok: boolean; state: string; failReason?: string; ip?: string; transcript: { ep: string; req: string; resp: string }[];
  networks?: ScannedAp[]; customReply?: string;
}

/**
 * An established session: the exchange helper and the session cipher (identity for security 0; one CTR stream
 * for security 1, so enc and dec are the same function; GCM with its nonce counter for security 2).
 */
export interface Session {
  ex(ep: string, req: Uint8Array): Promise<Uint8Array>;
  enc(d: Uint8Array): Uint8Array;
  dec(d: Uint8Array): Uint8Array;
  /** A request's reply through the session: dec(ex(ep, enc(req))). */
  call(ep: string, req: Uint8Array): Promise<Uint8Array>;
  secVer: 0 | 1 | 2;
  transcript: ProvResult["transcript"];
}

function x25519Keys(priv?: Uint8Array) {
  const pkcs8 = (p: Uint8Array) => Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), Buffer.from(p)]);
  const key = priv ? nodeCrypto.createPrivateKey({ key: pkcs8(priv), format: "der", type: "pkcs8" }) : nodeCrypto.generateKeyPairSync("x25519").privateKey;
  const pub = nodeCrypto.createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  return { key, pub: new Uint8Array(pub) };
}

export function x25519Shared(priv: nodeCrypto.KeyObject, peer: Uint8Array): Uint8Array {
  const spki = Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), Buffer.from(peer)]);
  return new Uint8Array(nodeCrypto.diffieHellman({ privateKey: priv, publicKey: nodeCrypto.createPublicKey({ key: spki, format: "der", type: "spki" }) }));
}

export class ProvError extends Error {}

/**
 * The device's answer is not the reply to the request sent: another message type, no payload of the reply's
 * type, or bytes that do not decode. Nothing it says may be taken as a result (an echoed GetStatus request
 * decodes with every field at its default: "Connected").
 */
export class WrongReply extends ProvError {}

/**
 * The reply is the request itself, byte for byte. Stock Espruino (2v29) on the ESP32 stores a GATT write as the
 * characteristic's value, queues onWrite for JS and sends the write response at once (targets/esp32/BLE/
 * esp32_gatts_func.c, ESP_GATTS_WRITE_EVT), so a client's read right after its write returns what it wrote.
 */
export class EchoedRequest extends WrongReply {
  constructor(public endpoint: string) { super(`${endpoint} answered with the request itself`); }
}

/** constants.proto Status, for messages. */
const STATUS = ["Success", "InvalidSecScheme", "InvalidProto", "TooManySessions", "InvalidArgument", "InternalError", "CryptoError", "InvalidSession"];
const statusName = (n: number) => `${n} (${STATUS[n] ?? "unknown"})`;

/** Endpoints whose reply is never its request (each reply has its own message type); custom endpoints may echo. */
const NEVER_ECHOED = ["prov-session", "prov-config", "prov-scan", "prov-ctrl"];

/** Decodes a reply; bytes that are no such message are a WrongReply. */
function decodeReply<T>(d: number, bytes: Uint8Array, what: string): T {
  try { return decode(d, bytes) as T; } catch (e) { throw new WrongReply(`${what}: the reply does not decode (${(e as Error).message})`); }
}

/**
 * The reply to request type `sent` must be of type sent + 1 (every protocomm enum pairs command n with response
 * n + 1) and carry that response's payload; returns the payload.
 */
function replyTo<P>(what: string, sent: number, msg: number | undefined, payload: P | undefined): P {
  const got = msg || 0;
  if (got !== sent + 1 || payload === undefined) {
    throw new WrongReply(`${what}: the reply is message type ${got}${payload === undefined ? " without its payload" : ""}, not the response type ${sent + 1}`);
  }
  return payload;
}

/** A reply's status must be Success. */
function succeeded(what: string, status: number | undefined) {
  if (status) throw new ProvError(`${what} failed with status ${statusName(status)}`);
}

/** proto-ver, capabilities and the security handshake, as esp_prov.py does them before anything else. */
export async function startSession(t: Transport, o: Omit<ProvOptions, "ssid" | "passphrase" | "sleep">): Promise<Session> {
  const print = o.print || (() => {});
  const transcript: ProvResult["transcript"] = [];
  const ex = async (ep: string, req: Uint8Array) => {
    const resp = await t.exchange(ep, req);
    transcript.push({ ep, req: Buffer.from(req).toString("hex"), resp: Buffer.from(resp).toString("hex") });
    // A seed-era device may answer proto-ver with the very version string it was sent.
    const echoable = !NEVER_ECHOED.includes(ep) && !(ep === "proto-ver" && o.era !== "seed");
    if (!echoable && Buffer.compare(Buffer.from(resp), Buffer.from(req)) === 0) throw new EchoedRequest(ep);
    return resp;
  };
  let secVer = o.secVer;
  let pop = o.pop ?? "";
  // sec_patch_ver from the proto-ver JSON (esp_prov get_sec_patch_ver; 0 when absent, as older firmware).
  let patchVer = 0;
  // ---- version / capabilities ----
  if (o.era === "seed") {
    const want = o.protoVer || "V0.1";
    print("==== Verifying protocol version ====");
    const r = Buffer.from(await ex("proto-ver", Buffer.from(want))).toString("latin1");
    if (r !== "SUCCESS" && r !== want) throw new ProvError(`Check for version failed (got ${JSON.stringify(r)})`);
    print("==== Verified protocol version successfully ====");
    if (secVer === undefined) secVer = 1;
  } else {
    const r = Buffer.from(await ex("proto-ver", Buffer.from(o.probe || "none"))).toString("latin1");
    let info: any;
    try { info = JSON.parse(r); } catch { info = undefined; }
    if (secVer === undefined) {
      if (!info) throw new ProvError('Security capabilities could not be determined, please specify "--sec_ver" explicitly');
      // esp_prov picks 0 or 1 from the capabilities only; a device that reports sec_ver 2 (v5.1+) is taken at its word.
      secVer = info.prov.sec_ver === 2 ? 2 : info.prov.cap.includes("no_sec") ? 0 : 1;
      print(`==== Security Scheme: ${secVer} ====`);
    }
    if (secVer === 1 && info?.prov?.cap?.includes("no_pop")) { if (pop) print("Proof of Possession will be ignored"); pop = ""; }
    patchVer = Number(info?.prov?.sec_patch_ver) || 0;
  }
  // ---- session ----
  print("==== Starting Session ====");
  let enc = (d: Uint8Array) => d, dec = enc;
  if (secVer === 2) {
    ({ enc, dec } = await sec2Session(ex, o.sec2User ?? "", o.sec2Pwd ?? "", patchVer));
  } else if (secVer === 0) {
    const r = decodeReply<SessionData>(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 0, sec0: { msg: 0, sc: {} } })), "SessionCmd0");
    if ((r.sec_ver || 0) !== 0 || !r.sec0) throw new WrongReply(`SessionCmd0: the reply is not a Security 0 session message`);
    succeeded("SessionCmd0", replyTo("SessionCmd0", 0, r.sec0.msg, r.sec0.sr).status);
  } else {
    const k = x25519Keys(o.clientPriv);
    const r0 = decodeReply<SessionData>(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: k.pub } } })), "SessionCmd0");
    if (r0.sec_ver !== 1 || !r0.sec1) throw new WrongReply("SessionCmd0: the reply is not a Security 1 session message");
    const sr0 = replyTo("SessionCmd0", 0, r0.sec1.msg, r0.sec1.sr0);
    succeeded("SessionCmd0", sr0.status);
    if (sr0.device_pubkey?.length !== 32 || sr0.device_random?.length !== 16) throw new WrongReply("SessionCmd0: SessionResp0 lacks a 32-byte public key or a 16-byte random");
    let key = Buffer.from(x25519Shared(k.key, sr0.device_pubkey));
    if (pop) {
      const h = nodeCrypto.createHash("sha256").update(pop).digest();
      key = Buffer.from(key.map((b, i) => b ^ h[i]!));
    }
    const cipher = nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(sr0.device_random));
    const crypt = (enc = dec = (d) => new Uint8Array(cipher.update(d)));
    const verify = crypt(sr0.device_pubkey);
    const r1 = decodeReply<SessionData>(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: verify } } })), "SessionCmd1");
    if (r1.sec_ver !== 1 || !r1.sec1) throw new WrongReply("SessionCmd1: the reply is not a Security 1 session message");
    const sr1 = replyTo("SessionCmd1", 2, r1.sec1.msg, r1.sec1.sr1);
    succeeded("SessionCmd1", sr1.status);
    const dv = sr1.device_verify_data;
    if (!dv || Buffer.compare(Buffer.from(crypt(dv)), Buffer.from(k.pub)) !== 0) throw new ProvError("Failed to verify device!");
  }
  print("==== Session Established ====");
  return { ex, enc, dec, call: async (ep, req) => dec(await ex(ep, enc(req))), secVer: secVer as 0 | 1 | 2, transcript };
}

/** Security 2's handshake as security2.py: Cmd0 (username, A), Cmd1 (M), the device's proof checked; the GCM session. */
async function sec2Session(ex: Session["ex"], user: string, pwd: string, patchVer: number) {
  if (!pwd) throw new ProvError("the device uses Security 2, which needs its password: pass --sec2_pwd (the board's PoP; --pop is taken too) and --sec2_username if not wifiprov");
  const srp = new Srp6aClient(user, pwd);
  const r0 = decodeReply<SessionData>(D_SessionData, await ex("prov-session", encode(D_SessionData, {
    sec_ver: 2, sec2: { msg: 0, sc0: { client_username: Buffer.from(user, "latin1"), client_pubkey: srp.Abytes } },
  })), "SessionCmd0");
  if (r0.sec_ver !== 2 || !r0.sec2) throw new WrongReply("SessionCmd0: the reply is not a Security 2 session message");
  const sr0 = replyTo("SessionCmd0", 0, r0.sec2.msg, r0.sec2.sr0);
  succeeded("SessionCmd0", sr0.status);
  if (!sr0.device_pubkey?.length || !sr0.device_salt?.length) throw new WrongReply("SessionCmd0: SessionResp0 lacks the device public key or the salt");
  const M = srp.challenge(sr0.device_salt, sr0.device_pubkey);
  const r1 = decodeReply<SessionData>(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 2, sec2: { msg: 2, sc1: { client_proof: M } } })), "SessionCmd1");
  if (r1.sec_ver !== 2 || !r1.sec2) throw new WrongReply("SessionCmd1: the reply is not a Security 2 session message");
  const sr1 = replyTo("SessionCmd1", 2, r1.sec2.msg, r1.sec2.sr1);
  succeeded("SessionCmd1", sr1.status);
  if (!srp.verify(sr1.device_proof ?? new Uint8Array())) throw new ProvError("Failed to verify device proof");
  if (sr1.device_nonce?.length !== 12) throw new WrongReply("SessionCmd1: SessionResp1 lacks the 12-byte nonce");
  const g = gcmSession(srp.K!, sr1.device_nonce, patchVer);
  return { enc: g.encrypt, dec: g.decrypt };
}

/** prov-scan as esp_prov's wifi_scan: start (blocking), status, then pages of results. */
export async function scanNetworks(s: Session, o: ScanOptions = {}): Promise<ScannedAp[]> {
  const scan = async <K extends keyof WiFiScanPayload>(m: WiFiScanPayload, resp: K): Promise<NonNullable<WiFiScanPayload[K]>> => {
    const what = `prov-scan ${resp}`;
    const r = decodeReply<WiFiScanPayload>(D_WiFiScanPayload, await s.call("prov-scan", encode(D_WiFiScanPayload, m)), what);
    const p = replyTo(what, m.msg || 0, r.msg, r[resp]);
    succeeded(what, r.status);
    return p!;
  };
  await scan({ msg: 0, cmd_scan_start: { blocking: o.blocking ?? true, passive: !!o.passive, group_channels: o.groupChannels ?? 0, period_ms: o.periodMs ?? 120 } }, "resp_scan_start");
  const st = await scan({ msg: 2, cmd_scan_status: {} }, "resp_scan_status");
  if (!st.scan_finished) throw new ProvError("scan not finished after a blocking ScanStart");
  const out: ScannedAp[] = [];
  const total = st.result_count || 0, page = o.pageSize ?? 4;
  for (let i = 0; i < total; i += page) {
    const n = Math.min(page, total - i);
    const r = await scan({ msg: 4, cmd_scan_result: { start_index: i, count: n } }, "resp_scan_result");
    for (const e of r.entries || []) {
      out.push({ ssid: Buffer.from(e.ssid || []).toString("latin1"), channel: e.channel || 0, rssi: e.rssi || 0, bssid: Buffer.from(e.bssid || []).toString("hex"), auth: e.auth || 0 });
    }
  }
  return out;
}

/** prov-ctrl: esp_prov --reset (1) / --reprov (3); returns the status. */
export async function ctrl(s: Session, cmd: "reset" | "reprov"): Promise<number> {
  const m = cmd === "reset" ? { msg: 1, cmd_ctrl_reset: {} } : { msg: 3, cmd_ctrl_reprov: {} };
  const r = decodeReply<WiFiCtrlPayload>(D_WiFiCtrlPayload, await s.call("prov-ctrl", encode(D_WiFiCtrlPayload, m)), `prov-ctrl ${cmd}`);
  replyTo(`prov-ctrl ${cmd}`, m.msg, r.msg, cmd === "reset" ? r.resp_ctrl_reset : r.resp_ctrl_reprov);
  return r.status || 0;
}

/** esp_prov --custom_data: raw bytes through the session cipher to custom-data. */
export async function customData(s: Session, text: string, ep = "custom-data"): Promise<string> {
  return Buffer.from(await s.call(ep, Buffer.from(text, "latin1"))).toString("latin1");
}

export async function provision(t: Transport, o: ProvOptions): Promise<ProvResult> {
  const print = o.print || (() => {});
  const sess = await startSession(t, o);
  const { transcript } = sess;
  let networks: ScannedAp[] | undefined, customReply: string | undefined;
  if (o.scan) {
    networks = await scanNetworks(sess, o.scan);
    print(`==== Wi-Fi Scan List: ${networks.length} networks ====`);
  }
  if (o.customData !== undefined) {
    customReply = await customData(sess, o.customData);
    print(`++++ CustomData response: ${JSON.stringify(customReply)}++++`);
  }
  /** One prov-config exchange; returns the payload of the reply to it (what names the command in messages). */
  const cfg = async <K extends keyof WiFiConfigPayload>(what: string, m: WiFiConfigPayload, resp: K) => {
    const r = decodeReply<WiFiConfigPayload>(D_WiFiConfigPayload, await sess.call("prov-config", encode(D_WiFiConfigPayload, m)), what);
    return replyTo(what, m.msg || 0, r.msg, r[resp])!;
  };
  // ---- credentials ----
  print("==== Sending Wi-Fi Credentials to Target ====");
  const rs = await cfg("SetConfig", { msg: 2, cmd_set_config: { ssid: Buffer.from(o.ssid, "latin1"), passphrase: Buffer.from(o.passphrase, "latin1") } }, "resp_set_config");
  succeeded("SetConfig", rs.status);
  print("==== Wi-Fi Credentials sent successfully ====");
  print("==== Applying Wi-Fi Config to Target ====");
  succeeded("ApplyConfig", (await cfg("ApplyConfig", { msg: 4 }, "resp_apply_config")).status);
  print("==== Apply config sent successfully ====");
  // ---- poll (wifi_prov.py wait_wifi_connected) ----
  let retry = 3;
  for (;;) {
    await o.sleep(5000);
    print("==== Wi-Fi connection state  ====");
    const st = await cfg("GetStatus", { msg: 0, cmd_get_status: {} }, "resp_get_status");
    succeeded("GetStatus", st.status);
    const s = st.sta_state || 0;
    if (s === 0) {
      print("==== WiFi state: Connected ====");
      print("==== Provisioning was successful ====");
      return { ok: true, state: "connected", ip: st.connected?.ip4_addr, transcript, networks, customReply };
    }
    if (s === 1) { print("++++ WiFi state: Connecting... ++++"); continue; }
    const reason = st.fail_reason === 1 ? "Incorrect SSID" : "Incorrect Password";
    print(s === 2 ? "---- WiFi state: Disconnected ----" : "---- WiFi state: Connection Failed ----");
    if (s === 3) print(`---- Failure reason: ${reason} ----`);
    if (retry-- > 0) { print(`Waiting to poll status again (status failed, ${retry + 1} tries left)...`); continue; }
    print("---- Provisioning failed! ----");
    return { ok: false, state: s === 3 ? "failed" : "disconnected", failReason: s === 3 ? reason : undefined, transcript, networks, customReply };
  }
}
