/** The configuration baked in by tools/build.mjs from sdkconfig + boards/<board>.json. */
declare module "build-config" {
  import { BoardInfo } from "./platform/espruino/board";
  import { VersionStyle } from "./protocomm/version";
  export interface BuildConfig {
    board: BoardInfo;
    transport: "ble" | "softap" | "both";
    /** WPA2 passphrase of the provisioning AP ("" = open). */
    softapPassword: string;
    /** GET / serves the page, captive probes are redirected to it (CONFIG_PROV_WEB_PORTAL, SoftAP only). */
    webPortal: boolean;
    /** DNS on UDP 53 answers every A query with the AP address (CONFIG_PROV_CAPTIVE_DNS). */
    captiveDns: boolean;
    /** The page URL with the PoP is logged as a QR payload too (CONFIG_PROV_PORTAL_QR). */
    portalQr: boolean;
    /** MTU assumed for BLE replies (Espruino does not expose the negotiated one). */
    bleMtu: number;
    secVer: number;
    /** Security 1's PoP in "fixed" mode. */
    pop: string;
    /** Security 2's username (CONFIG_PROV_SEC2_USERNAME); its password is the PoP. */
    sec2User: string;
    /** "random": a PoP per board from the hardware RNG, kept in flash (src/prov/pop.ts). */
    popMode: "random" | "fixed";
    /** Factory reset button GPIO (-1 = none) and how long it must be held. */
    resetGpio: number;
    resetHoldMs: number;
    /** Station without its network this long → provisioning opens on the SoftAP (0 = never). */
    staFallbackMs: number;
    namePrefix: string;
    resetProvisioned: boolean;
    autoStopMs: number;
    versionStyle: VersionStyle;
    versionString: string;
    logLevel: number;
    logColors: boolean;
    x25519Slice: number;
    /** The JS X25519 uses loopOps (compact) instead of generatedOps (CONFIG_PROV_X25519_CODE). */
    x25519Loops: boolean;
  }
  const config: BuildConfig;
  /** config.x25519Loops as a constant the bundler folds (the unused field code is left out). */
  export const X25519_LOOPS: boolean;
  /** config.webPortal / config.captiveDns as constants the bundler folds. */
  export const WEB_PORTAL: boolean;
  export const CAPTIVE_DNS: boolean;
  /** config.staFallbackMs > 0, folded: without the fallback its code is left out and provisioning's factories are boot-only. */
  export const STA_FALLBACK: boolean;
  /**
   * Security 2 with a fixed PoP: salt, verifier v and k·v mod N (hex) made at build time (tools/srp.mjs), null
   * otherwise; a function, so that the strings stay in the code (flash) rather than in a RAM object.
   */
  export function SEC2_VERIFIER(): { salt: string; v: string; kv: string } | null;
  /** config.secVer, folded: a build has the code of its own security scheme only. */
  export const SEC_VER: number;
  export default config;
}
