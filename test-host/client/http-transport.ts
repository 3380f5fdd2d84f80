/**
 * protocomm over HTTP from the client side, as the official SoftAP clients do it:
 * - esp_prov (tools/esp_prov/transport/transport_http.py): one http.client.HTTPConnection with a 60 s
 *   timeout; headers `Content-type: application/x-www-form-urlencoded` and `Accept: text/plain`; copies
 *   any Set-Cookie into Cookie; a non-200 status raises "Server responded with error code N";
 * - Android ESPProvision (SoftAPTransport.java): a new HttpURLConnection per request, a static cookie store
 *   shared by every device it ever talked to (stale cookies), no read timeout;
 * - iOS ESPProvision (ESPSoftAPTransport.swift): URLSession cookies; a request fails after 30 s without data.
 * Connections: Espruino's server closes each one after its response, so every request opens a new one.
 */
import net from "node:net";
import { SimDevice } from "../sim/device";
import { parseResponse } from "../sim/http";
import { Transport } from "./transport";

/** esp_prov_v32: tools/esp_prov of ESP-IDF v3.2-v4.0 (transport_softap.py): no cookies, 30 s timeout. */
export type HttpClientStyle = "esp_prov" | "esp_prov_v32" | "android" | "ios";

/** Android's CookieManager is static: one jar for the whole app (pass the same object to every transport). */
export interface CookieJar { cookie?: string }

/** Sends one raw request on a new connection; resolves with every byte received until the device closed. */
export type RawSend = (raw: Buffer, timeoutMs: number) => Promise<Buffer>;

export class HttpError extends Error {
  /** The HTTP status of a non-200 reply (0: no reply) and its body as text. */
  constructor(msg: string, public status = 0, public body = "") { super(msg); }
}

/**
 * A board on the access point this computer has joined accepts a TCP connection within milliseconds; none
 * after this long means it is not reachable (esp_prov's http.client would wait its whole 60 s timeout).
 */
export const CONNECT_TIMEOUT_MS = 5000;
export class ConnectTimeout extends HttpError {}

/** Where npm run sim serves the board's HTTP server by default, and npm run prov looks for it. */
export const DEFAULT_HTTP_PORT = 8080;

const TIMEOUT_MS: Record<HttpClientStyle, number> = { esp_prov: 60000, esp_prov_v32: 30000, ios: 30000, android: 600000 };

export function httpTransport(send: RawSend, o: { style?: HttpClientStyle; jar?: CookieJar; host?: string } = {}): Transport {
  const style = o.style || "esp_prov", jar = o.jar || {};
  return {
    async exchange(ep, data) {
      const head = [`POST /${ep} HTTP/1.1`, `Host: ${o.host || "192.168.4.1"}`];
      if (style === "esp_prov" || style === "esp_prov_v32") head.push("Accept-Encoding: identity", "Content-type: application/x-www-form-urlencoded", "Accept: text/plain");
      else if (style === "android") head.push("User-Agent: Dalvik/2.1.0", "Content-Type: application/x-www-form-urlencoded", "Accept: text/plain");
      else head.push("Content-Type: application/x-www-form-urlencoded", "Accept: text/plain", "User-Agent: ESPProvision");
      head.push(`Content-Length: ${data.length}`);
      if (jar.cookie) head.push(`Cookie: ${jar.cookie}`);
      const raw = Buffer.concat([Buffer.from(head.join("\r\n") + "\r\n\r\n", "latin1"), Buffer.from(data)]);
      const got = await send(raw, TIMEOUT_MS[style]);
      const r = parseResponse(got);
      if (!r) throw new HttpError(got.length ? "malformed HTTP response" : `Remote end closed connection without response (/${ep})`);
      const cookie = r.headers["set-cookie"];
      if (cookie && style !== "esp_prov_v32") jar.cookie = cookie.split(";")[0];
      if (r.status !== 200) {
        const body = r.body.toString("latin1");
        throw new HttpError(`Server responded with error code ${r.status} (/${ep})${body ? `: ${body}` : ""}`, r.status, body);
      }
      const len = r.headers["content-length"];
      return new Uint8Array(len === undefined ? r.body : r.body.subarray(0, Number(len)));
    },
    async close() { /* nothing held open */ },
  };
}

/** Raw sends to the simulated board in this process (the phone has joined its AP). */
export function simHttpSend(dev: SimDevice): RawSend {
  return async (raw, timeoutMs) => {
    const sock = dev.http.connect(80);
    sock.write(raw);
    const ok = dev.sched.runWhile(() => sock.closedByDevice, timeoutMs);
    if (!ok) {
      sock.end();
      dev.run(10);
      throw new HttpError(`timed out: no reply within ${timeoutMs / 1000} s`);
    }
    return sock.received;
  };
}

/** Raw sends over real TCP (npm run sim -- --http-port N, or a board at 192.168.4.1:80). */
export function tcpHttpSend(host: string, port: number): RawSend {
  return (raw, timeoutMs) => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, host);
    const connecting = setTimeout(() => {
      s.destroy();
      reject(new ConnectTimeout(`no TCP connection to ${host}:${port} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    s.on("close", () => clearTimeout(connecting));
    s.setTimeout(timeoutMs, () => { s.destroy(); reject(new HttpError(`timed out: no reply from ${host}:${port} within ${timeoutMs / 1000} s`)); });
    s.on("connect", () => { clearTimeout(connecting); s.write(raw); });
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => { s.end(); resolve(Buffer.concat(chunks)); });
    s.on("error", (e: NodeJS.ErrnoException) => reject(new HttpError(e.code === "ECONNREFUSED" ? `nothing listens on ${host}:${port}` : e.message)));
  });
}
