/**
 * The fuzzer's view of a transport: one request in, one reply out or the link dropped. Transport-agnostic
 * so that the same cases and properties run over BLE GATT and, once it lands, SoftAP/HTTP (an `httpLink`
 * implements this over test-host/sim/http.ts: exchange = POST /<endpoint>; dropped = the session cookie's
 * session was closed / the socket closed; reconnect = a new TCP connection and session).
 * Synchronous: the simulator runs on virtual time, so a call returns when the device has answered.
 */
import { SimDevice } from "../sim/device";
import { parseResponse } from "../sim/http";

export type Reply = { dropped: false; bytes: Uint8Array } | { dropped: true; why: string };

export interface FuzzLink {
  readonly transport: string;
  /** Largest request one exchange carries (BLE: one ATT PDU, MTU − 3). */
  readonly maxRequest: number;
  exchange(endpoint: string, data: Uint8Array): Reply;
  /** Ends the current link if it is up and opens a fresh one (a new protocomm session). */
  reconnect(): void;
  connected(): boolean;
}

/** Endpoint → characteristic as the firmware registers them (ble-gatt.ts ENDPOINT_UUID16). */
const UUID: Record<string, string> = {
  "prov-session": "0000ff51-0000-1000-8000-00805f9b34fb",
  "prov-config": "0000ff52-0000-1000-8000-00805f9b34fb",
  "proto-ver": "0000ff53-0000-1000-8000-00805f9b34fb",
  "prov-ctrl": "0000ff4f-0000-1000-8000-00805f9b34fb",
  "prov-scan": "0000ff50-0000-1000-8000-00805f9b34fb",
  // The first custom endpoint (ble-gatt.ts numbers them from 0xFF54 in registration order).
  "custom-data": "0000ff54-0000-1000-8000-00805f9b34fb",
};

/** The simulator's virtual central, as esp_prov uses it: write with response, then read at once. */
export function bleLink(dev: SimDevice, mtu = 517): FuzzLink {
  const ble = () => dev.ble;
  return {
    transport: "ble",
    maxRequest: Math.min(mtu, 500) - 3,
    exchange(ep, data) {
      const u = UUID[ep];
      if (!u) throw new Error(`no characteristic for endpoint ${ep}`);
      try {
        ble().write(u, data);
      } catch (e) {
        const m = (e as Error).message;
        if (/link dropped by the device/.test(m)) return { dropped: true, why: m };
        throw e;
      }
      try {
        return { dropped: false, bytes: ble().read(u) };
      } catch (e) {
        if (!ble().connected) return { dropped: true, why: (e as Error).message };
        throw e;
      }
    },
    reconnect() {
      if (ble().connected) ble().disconnect();
      ble().connect(mtu);
    },
    connected: () => ble().connected,
  };
}

/**
 * protocomm over the SoftAP's HTTP server (test-host/sim/http.ts), as esp_prov's transport_http.py uses it:
 * each exchange is a POST /<endpoint> on a new connection carrying the session cookie it was given. A
 * non-200 answer is the HTTP form of ESP-IDF's "drop": the firmware failed the request, and the client starts
 * over with a new session (it forgets its cookie), as after a BLE link drop.
 */
export function httpLink(dev: SimDevice): FuzzLink {
  let cookie: string | undefined, up = false;
  return {
    transport: "http",
    maxRequest: 4096,
    exchange(ep, data) {
      const head = `POST /${ep} HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: ${data.length}\r\n` + (cookie ? `Cookie: ${cookie}\r\n` : "") + "\r\n";
      const s = dev.http.connect(80);
      s.write(Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(data)]));
      if (!dev.sched.runWhile(() => s.closedByDevice, 120000)) throw new Error(`no HTTP reply to ${ep} within 120 s`);
      const r = parseResponse(s.received);
      if (!r) throw new Error(`HTTP reply to ${ep} without a status line: ${JSON.stringify(s.received.toString("latin1"))}`);
      const set = r.headers["set-cookie"];
      if (set) cookie = set.split(";")[0];
      if (r.status !== 200) { up = false; return { dropped: true, why: `HTTP ${r.status}` }; }
      return { dropped: false, bytes: new Uint8Array(r.body.subarray(0, Number(r.headers["content-length"]))) };
    },
    // A stale cookie, as Android's static cookie store sends: the firmware starts a new session on the next
    // request (no cookie at all would continue a cookie-less client's session, http-protocomm.ts).
    reconnect() { cookie = "session=0"; up = true; },
    connected: () => up,
  };
}
