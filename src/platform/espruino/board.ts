/** Board facts baked into the bundle from boards/<board>.json (see boards/board.schema.json). */
export interface BoardInfo {
  id: string;
  /** Native `require("crypto")` present (SHA-256, AES). */
  crypto: boolean;
  /** Hardware RNG register read with peek32 (ESP32: WDEV_RND_REG 0x60035144, the address ESP-IDF reads). */
  rngReg: number;
  /** Where the MAC for the device name comes from. */
  macSource: "serial" | "wifi";
  /** Espruino release the board file names (2v29). */
  espruino: string;
  /** Espruino can keep the AP up while the station connects (false on the ESP32-C3, ChangeLog 2v25). */
  apsta: boolean;
  /** When the GATT server acknowledges a write: before JS ran (stock ESP32 port) or after the reply is set. */
  bleWriteAck: "before-js" | "after-reply";
  /** The MPI block X25519 may use ("esp32-rsa": the classic ESP32's RSA accelerator), "" for none. */
  mpi: string;
}
