/**
 * A client that speaks what esp_prov speaks (tools/esp_prov: esp_prov.py, security/security{0,1}.py,
 * prov/wifi_prov.py), with its own crypto from node:crypto — X25519 and ONE AES-256-CTR cipher object
 * used for both directions, as security1.py does — so it checks the firmware rather than mirroring it.
 */
import nodeCrypto from "node:crypto";
import { decode, encode } from "../../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload, D_WiFiCtrlPayload, D_WiFiScanPayload } from "../../src/proto/schema.gen";
import { Transport } from "./transport";

export interface ProvOptions {
  secVer?: 0 | 1;
  pop?: string;
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

/** An established session: the exchange helper and the session cipher (identity for security 0). */
export interface Session {
  ex(ep: string, req: Uint8Array): Promise<Uint8Array>;
  crypt(d: Uint8Array): Uint8Array;
  secVer: 0 | 1;
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

/** proto-ver, capabilities and the security handshake, as esp_prov.py does them before anything else. */
export async function startSession(t: Transport, o: Omit<ProvOptions, "ssid" | "passphrase" | "sleep">): Promise<Session> {
  const print = o.print || (() => {});
  const transcript: ProvResult["transcript"] = [];
  const ex = async (ep: string, req: Uint8Array) => {
    const resp = await t.exchange(ep, req);
    transcript.push({ ep, req: Buffer.from(req).toString("hex"), resp: Buffer.from(resp).toString("hex") });
    return resp;
  };
  let secVer = o.secVer;
  let pop = o.pop ?? "";
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
      secVer = info.prov.cap.includes("no_sec") ? 0 : 1;
      print(`==== Security Scheme: ${secVer} ====`);
    }
    if (secVer === 1 && info?.prov?.cap?.includes("no_pop")) { if (pop) print("Proof of Possession will be ignored"); pop = ""; }
  }
  // ---- session ----
  print("==== Starting Session ====");
  let crypt = (d: Uint8Array) => d;
  if (secVer === 0) {
    const r = decode(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 0, sec0: { msg: 0, sc: {} } })));
    if ((r.sec_ver || 0) !== 0 || !r.sec0) throw new ProvError("Failed to establish session: bad security 0 response");
  } else {
    const k = x25519Keys(o.clientPriv);
    const r0 = decode(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: k.pub } } })));
    const sr0 = r0.sec1?.sr0;
    if (!sr0?.device_pubkey || sr0.device_pubkey.length !== 32 || !sr0.device_random) throw new ProvError("Failed to establish session: bad SessionResp0");
    let key = Buffer.from(x25519Shared(k.key, sr0.device_pubkey));
    if (pop) {
      const h = nodeCrypto.createHash("sha256").update(pop).digest();
      key = Buffer.from(key.map((b, i) => b ^ h[i]!));
    }
    const cipher = nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(sr0.device_random));
    crypt = (d) => new Uint8Array(cipher.update(d));
    const verify = crypt(sr0.device_pubkey);
    const r1 = decode(D_SessionData, await ex("prov-session", encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: verify } } })));
    const dv = r1.sec1?.sr1?.device_verify_data;
    if (!dv || Buffer.compare(Buffer.from(crypt(dv)), Buffer.from(k.pub)) !== 0) throw new ProvError("Failed to verify device!");
  }
  print("==== Session Established ====");
  return { ex, crypt, secVer: secVer as 0 | 1, transcript };
}

/** prov-scan as esp_prov's wifi_scan: start (blocking), status, then pages of results. */
export async function scanNetworks(s: Session, o: ScanOptions = {}): Promise<ScannedAp[]> {
  const scan = async (m: object) => {
    const r = decode(D_WiFiScanPayload, s.crypt(await s.ex("prov-scan", s.crypt(encode(D_WiFiScanPayload, m)))));
    if ((r.status || 0) !== 0) throw new ProvError(`prov-scan answered status ${r.status}`);
    return r;
  };
  await scan({ msg: 0, cmd_scan_start: { blocking: o.blocking ?? true, passive: !!o.passive, group_channels: o.groupChannels ?? 0, period_ms: o.periodMs ?? 120 } });
  const st = (await scan({ msg: 2, cmd_scan_status: {} })).resp_scan_status || {};
  if (!st.scan_finished) throw new ProvError("scan not finished after a blocking ScanStart");
  const out: ScannedAp[] = [];
  const total = st.result_count || 0, page = o.pageSize ?? 4;
  for (let i = 0; i < total; i += page) {
    const n = Math.min(page, total - i);
    const r = await scan({ msg: 4, cmd_scan_result: { start_index: i, count: n } });
    for (const e of r.resp_scan_result?.entries || []) {
      out.push({ ssid: Buffer.from(e.ssid || []).toString("latin1"), channel: e.channel || 0, rssi: e.rssi || 0, bssid: Buffer.from(e.bssid || []).toString("hex"), auth: e.auth || 0 });
    }
  }
  return out;
}

/** prov-ctrl: esp_prov --reset (1) / --reprov (3); returns the status. */
export async function ctrl(s: Session, cmd: "reset" | "reprov"): Promise<number> {
  const m = cmd === "reset" ? { msg: 1, cmd_ctrl_reset: {} } : { msg: 3, cmd_ctrl_reprov: {} };
  const r = decode(D_WiFiCtrlPayload, s.crypt(await s.ex("prov-ctrl", s.crypt(encode(D_WiFiCtrlPayload, m)))));
  if (r.msg !== m.msg + 1) throw new ProvError(`prov-ctrl answered msg ${r.msg}`);
  return r.status || 0;
}

/** esp_prov --custom_data: raw bytes through the session cipher to custom-data. */
export async function customData(s: Session, text: string, ep = "custom-data"): Promise<string> {
  return Buffer.from(s.crypt(await s.ex(ep, s.crypt(Buffer.from(text, "latin1"))))).toString("latin1");
}

export async function provision(t: Transport, o: ProvOptions): Promise<ProvResult> {
  const print = o.print || (() => {});
  const sess = await startSession(t, o);
  const { crypt, ex, transcript } = sess;
  let networks: ScannedAp[] | undefined, customReply: string | undefined;
  if (o.scan) {
    networks = await scanNetworks(sess, o.scan);
    print(`==== Wi-Fi Scan List: ${networks.length} networks ====`);
  }
  if (o.customData !== undefined) {
    customReply = await customData(sess, o.customData);
    print(`++++ CustomData response: ${JSON.stringify(customReply)}++++`);
  }
  const cfg = async (m: object) => decode(D_WiFiConfigPayload, crypt(await ex("prov-config", crypt(encode(D_WiFiConfigPayload, m)))));
  // ---- credentials ----
  print("==== Sending Wi-Fi Credentials to Target ====");
  const rs = await cfg({ msg: 2, cmd_set_config: { ssid: Buffer.from(o.ssid, "latin1"), passphrase: Buffer.from(o.passphrase, "latin1") } });
  if ((rs.resp_set_config?.status || 0) !== 0) throw new ProvError(`SetConfig failed with status ${rs.resp_set_config?.status}`);
  print("==== Wi-Fi Credentials sent successfully ====");
  print("==== Applying Wi-Fi Config to Target ====");
  const ra = await cfg({ msg: 4 });
  if ((ra.resp_apply_config?.status || 0) !== 0) throw new ProvError(`ApplyConfig failed with status ${ra.resp_apply_config?.status}`);
  print("==== Apply config sent successfully ====");
  // ---- poll (wifi_prov.py wait_wifi_connected) ----
  let retry = 3;
  for (;;) {
    await o.sleep(5000);
    print("==== Wi-Fi connection state  ====");
    const st = (await cfg({ msg: 0, cmd_get_status: {} })).resp_get_status || {};
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
