/** The configuration baked in by tools/build.mjs from sdkconfig + boards/<board>.json. */
declare module "build-config" {
  import { BoardInfo } from "./platform/espruino/board";
  import { VersionStyle } from "./protocomm/version";
  export interface BuildConfig {
    board: BoardInfo;
    transport: "ble" | "softap" | "both";
    /** WPA2 passphrase of the provisioning AP ("" = open). */
    softapPassword: string;
    /** MTU assumed for BLE replies (Espruino does not expose the negotiated one). */
    bleMtu: number;
    secVer: number;
    pop: string;
    namePrefix: string;
    resetProvisioned: boolean;
    autoStopMs: number;
    versionStyle: VersionStyle;
    versionString: string;
    logLevel: number;
    logColors: boolean;
    x25519Slice: number;
  }
  const config: BuildConfig;
  export default config;
}
