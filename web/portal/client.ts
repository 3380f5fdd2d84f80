/**
 * The page's protocomm client: what esp_prov and the phone apps do over HTTP (proto-ver, prov-session,
 * prov-scan, prov-config, prov-ctrl), built from the firmware's own codec, AES-CTR and SHA-256 (src/) and a BigInt
 * X25519 (x25519.ts), since http://192.168.4.1 is not a secure context and WebCrypto's subtle API is absent there.
 * No DOM here: the page (main.ts) draws, this module talks; `Post` is the only way out.
 */
import { decode, encode } from "../../src/proto/codec";
import {
  D_SessionData, D_WiFiConfigPayload, D_WiFiCtrlPayload, D_WiFiScanPayload,
  Sec1MsgType, Status, WiFiConfigMsgType, WiFiCtrlMsgType, WiFiScanMsgType, WifiAuthMode, WifiStationState, WifiConnectFailedReason,
} from "../../src/proto/schema.gen";
import { sha256 } from "../../src/crypto/sha256";
import { aes256EncryptBlocks, aes256Expand } from "../../src/crypto/aes";
import { ctrStream } from "../../src/crypto/ctr";
import { x25519 } from "./x25519";

/** One request to an endpoint, one reply; rejects with a PortalError. */
export type Post = (ep: string, body: Uint8Array) => Promise<Uint8Array>;

/**
 * Why an exchange failed, as the user must hear it:
 * pop: the board rejected the proof of possession (Security 1 SessionCmd1 failed, or its reply did not verify);
 * locked: the board refused to start a session (the firmware's PoP guessing brake answers SessionCmd0 so);
 * net: no answer (the phone left the board's network, or the board restarted);
 * board: the board answered with an error status.
 */
export type Why = "pop" | "locked" | "net" | "board";

export class PortalError extends Error {
  constructor(public why: Why, msg: string) {
    super(msg);
  }
}

/** Same-origin POSTs; the board's `Set-Cookie: session=N` rides along in the browser's cookie jar. */
export function fetchPost(timeoutMs: number): Post {
  return async (ep, body) => {
    const ac = new AbortController(), t = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const r = await fetch("/" + ep, { method: "POST", body: body as BodyInit, credentials: "same-origin", cache: "no-store", signal: ac.signal });
      if (r.status != 200) throw new PortalError("board", "HTTP " + r.status + " from /" + ep);
      return new Uint8Array(await r.arrayBuffer());
    } catch (e) {
      throw e instanceof PortalError ? e : new PortalError("net", "no answer from /" + ep);
    } finally {
      clearTimeout(t);
    }
  };
}

export interface Caps {
  secVer: number;
  /** Security 1 without a proof of possession. */
  noPop: boolean;
  scan: boolean;
}

/** proto-ver as the phone apps probe it ("ESP"); a board of the fixed/seed era answers no JSON: Security 1, no scan. */
export async function probe(post: Post): Promise<Caps> {
  const text = new TextDecoder().decode(await post("proto-ver", utf8("ESP")));
  let prov: { sec_ver?: number; cap?: string[] } = {};
  try {
    prov = JSON.parse(text).prov || {};
  } catch (e) {
    // not JSON: an old-style version string
  }
  const cap = prov.cap || [];
  return { secVer: prov.sec_ver === undefined ? (cap.indexOf("no_sec") >= 0 ? 0 : 1) : prov.sec_ver, noPop: cap.indexOf("no_pop") >= 0, scan: cap.indexOf("wifi_scan") >= 0 };
}

export const utf8 = (s: string) => new TextEncoder().encode(s);

/** An established session: one CTR stream for both directions, in order (protocomm security1.c). */
export interface Session {
  /** Encrypts msg for `ep`, posts it, decrypts and decodes the reply. */
  call(ep: string, desc: number, msg: object): Promise<any>;
}

/**
 * The Security 0/1 handshake from the client side (esp_prov security1.py): the client encrypts the DEVICE's
 * public key to prove it knows the PoP, the device answers with the CLIENT's key encrypted further on.
 * `random` gives the client's private key (crypto.getRandomValues works on plain http).
 */
export async function openSession(post: Post, caps: Caps, pop: string, random: (n: number) => Uint8Array): Promise<Session> {
  let crypt = (d: Uint8Array) => d;
  const sess = (m: object) => post("prov-session", encode(D_SessionData, m)).then((r) => decode(D_SessionData, r));
  if (caps.secVer == 0) {
    await sess({ sec_ver: 0, sec0: { msg: 0, sc: {} } });
  } else {
    const priv = random(32), pub = x25519(priv);
    const r0 = await sess({ sec_ver: 1, sec1: { msg: Sec1MsgType.Session_Command0, sc0: { client_pubkey: pub } } }).catch((e: PortalError) => {
      throw e.why == "board" ? new PortalError("locked", "the board refused a new session") : e;
    });
    const sr0 = (r0.sec1 && r0.sec1.sr0) || {};
    if (!sr0.device_pubkey || sr0.device_pubkey.length != 32 || !sr0.device_random || sr0.device_random.length != 16) {
      throw new PortalError("board", "bad session");
    }
    let key = x25519(priv, sr0.device_pubkey);
    if (pop && !caps.noPop) {
      const h = sha256(utf8(pop));
      key = key.map((b, i) => b ^ h[i]!);
    }
    const w = aes256Expand(key), stream = ctrStream(sr0.device_random, (b) => aes256EncryptBlocks(w, b));
    crypt = (d) => stream.update(d);
    const r1 = await sess({ sec_ver: 1, sec1: { msg: Sec1MsgType.Session_Command1, sc1: { client_verify_data: crypt(sr0.device_pubkey) } } }).catch((e: PortalError) => {
      throw e.why == "board" ? new PortalError("pop", "the board rejected the proof of possession") : e;
    });
    const dv: Uint8Array | undefined = r1.sec1 && r1.sec1.sr1 && r1.sec1.sr1.device_verify_data;
    if (!dv || crypt(dv).join() != pub.join()) throw new PortalError("pop", "bad session");
  }
  return {
    call: async (ep, desc, msg) => decode(desc, crypt(await post(ep, crypt(encode(desc, msg))))),
  };
}

export interface Network {
  ssid: string;
  /** The SSID as the board heard it (not always valid UTF-8). */
  raw: Uint8Array;
  rssi: number;
  open: boolean;
}

/** prov-scan: a blocking scan, then the results 4 at a time (esp_prov's page size); one entry per SSID, strongest first. */
export async function scan(s: Session): Promise<Network[]> {
  const call = async (m: object) => {
    const r = await s.call("prov-scan", D_WiFiScanPayload, m);
    if (r.status) throw new PortalError("board", "scan status " + r.status);
    return r;
  };
  await call({ msg: WiFiScanMsgType.TypeCmdScanStart, cmd_scan_start: { blocking: true, period_ms: 120 } });
  const st = (await call({ msg: WiFiScanMsgType.TypeCmdScanStatus, cmd_scan_status: {} })).resp_scan_status || {};
  const best: { [ssid: string]: Network } = {}, total = st.result_count || 0;
  for (let i = 0; i < total; i += 4) {
    const r = await call({ msg: WiFiScanMsgType.TypeCmdScanResult, cmd_scan_result: { start_index: i, count: Math.min(4, total - i) } });
    for (const e of (r.resp_scan_result && r.resp_scan_result.entries) || []) {
      const raw: Uint8Array = e.ssid || new Uint8Array(0), ssid = new TextDecoder().decode(raw), rssi = e.rssi || 0;
      if (ssid && !(best[ssid] && best[ssid]!.rssi >= rssi)) best[ssid] = { ssid, raw, rssi, open: (e.auth || 0) == WifiAuthMode.Open };
    }
  }
  return Object.keys(best).map((k) => best[k]!).sort((a, b) => b.rssi - a.rssi);
}

export type WifiState = { state: "connected"; ip: string } | { state: "connecting" | "idle" } | { state: "failed"; reason: "password" | "notfound" };

/** prov-config GetStatus as the page reports it. */
export async function status(s: Session): Promise<WifiState> {
  const st = (await s.call("prov-config", D_WiFiConfigPayload, { msg: WiFiConfigMsgType.TypeCmdGetStatus, cmd_get_status: {} })).resp_get_status || {};
  const state = st.sta_state || 0;
  if (state == WifiStationState.Connected) return { state: "connected", ip: (st.connected && st.connected.ip4_addr) || "" };
  if (state == WifiStationState.Connecting) return { state: "connecting" };
  if (state == WifiStationState.ConnectionFailed) return { state: "failed", reason: st.fail_reason == WifiConnectFailedReason.NetworkNotFound ? "notfound" : "password" };
  return { state: "idle" };
}

/** prov-ctrl Reset: back to accepting credentials after a failed attempt (ESP-IDF wifi_ctrl.c). */
export async function reset(s: Session): Promise<void> {
  await s.call("prov-ctrl", D_WiFiCtrlPayload, { msg: WiFiCtrlMsgType.TypeCmdCtrlReset, cmd_ctrl_reset: {} });
}

/** prov-config SetConfig then ApplyConfig; a refusal names its status. */
export async function sendCredentials(s: Session, ssid: Uint8Array, password: Uint8Array): Promise<void> {
  const set = await s.call("prov-config", D_WiFiConfigPayload, { msg: WiFiConfigMsgType.TypeCmdSetConfig, cmd_set_config: { ssid, passphrase: password } });
  const st = set.resp_set_config && set.resp_set_config.status;
  if (st) throw new PortalError("board", st == Status.InvalidArgument ? "SSID or password too long" : "status " + st);
  const apply = await s.call("prov-config", D_WiFiConfigPayload, { msg: WiFiConfigMsgType.TypeCmdApplyConfig, cmd_apply_config: {} });
  const ast = apply.resp_apply_config && apply.resp_apply_config.status;
  if (ast) throw new PortalError("board", "status " + ast);
}
