/**
 * The proto-ver endpoint in its three eras (docs/protocol.md §3.1):
 * - "json":  wifi_prov_mgr's cJSON_Print output, byte for byte (TAB indentation, `"key":\tvalue`);
 * - "fixed": the old examples' fixed version string (`V0.1`), whatever is written;
 * - "seed":  v3.2-beta1 protocomm, which compared the request with its version: `SUCCESS` / `FAIL`.
 */
import { bytesToStr, strToBytes } from "../core/bytes";

export type VersionStyle = "json" | "fixed" | "seed";

export interface VersionInfo {
  style: VersionStyle;
  /** The fixed/seed version string (V0.1). */
  fixed: string;
  secVer: number;
  /** Empty PoP (security 1 without proof of possession). */
  noPop: boolean;
  scan: boolean;
}

/** Capabilities as wifi_prov_get_info_json: no_sec, else no_pop (Security 1 only); then wifi_scan. */
export function capabilities(v: VersionInfo): string[] {
  var caps: string[] = [];
  if (v.secVer === 0) caps.push("no_sec");
  else if (v.noPop && v.secVer === 1) caps.push("no_pop");
  if (v.scan) caps.push("wifi_scan");
  return caps;
}

/**
 * cJSON_Print of {"prov":{"ver":"v1.1","sec_ver":N,"sec_patch_ver":P,"cap":[...]}}; P is the scheme's patch_ver
 * (protocomm_security2 .patch_ver = 1 in v5.5 security2.c: the GCM nonce counter steps; 0 for Security 0/1).
 */
export function versionJson(v: VersionInfo): string {
  var caps = capabilities(v).map(function (c) {
    return '"' + c + '"';
  });
  return '{\n\t"prov":\t{\n\t\t"ver":\t"v1.1",\n\t\t"sec_ver":\t' + v.secVer +
    ',\n\t\t"sec_patch_ver":\t' + (v.secVer === 2 ? 1 : 0) + ',\n\t\t"cap":\t[' + caps.join(", ") + "]\n\t}\n}";
}

/** The proto-ver handler for the configured style. */
export function versionHandler(v: VersionInfo): (req: Uint8Array) => Uint8Array {
  var json = strToBytes(versionJson(v)), fixed = strToBytes(v.fixed);
  return function (req) {
    if (v.style === "json") return json;
    if (v.style === "fixed") return fixed;
    return strToBytes(bytesToStr(req) === v.fixed ? "SUCCESS" : "FAIL");
  };
}
