/**
 * Your application's own provisioning endpoints (ESP-IDF wifi_prov_mgr_endpoint_create/_register).
 * Each is served on every transport next to prov-config: over BLE as one more characteristic (0xFF54, 0xFF55, …
 * with the name in its 0x2901 description, so at most 15 characters), over HTTP as POST /<name>. Requests and
 * replies go through the session's encryption like prov-config; the handler sees plaintext bytes and returns
 * the reply (or throws to fail the exchange). `esp_prov --custom_data TEXT` talks to "custom-data".
 *
 * This file is the example from ESP-IDF's wifi_prov_mgr: log what arrived, answer "SUCCESS". Replace or add
 * endpoints here; they are registered before the transports start.
 */
import { bytesToStr, strToBytes } from "../core/bytes";
import { Logger } from "../core/log";
import { Handler } from "../protocomm/protocomm";

export interface EndpointRegistry {
  add(name: string, handler: Handler): void;
}

export function registerAppEndpoints(r: EndpointRegistry, log: Logger): void {
  r.add("custom-data", function (req) {
    log.i("Received data: " + bytesToStr(req));
    return strToBytes("SUCCESS");
  });
}
