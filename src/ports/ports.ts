/**
 * The seams between the protocol core and the device. Interfaces only: no Espruino global, no Node.
 * `src/platform/espruino/` implements them on the board; tests implement them with fakes.
 */
import { Convolve, Gather } from "../crypto/x25519";
import { MpiIo } from "../crypto/esp32-rsa";

/** Cryptographic primitives the platform provides (native where the board has them). */
export interface CryptoPort {
  /** n bytes from the hardware RNG (never Math.random / E.hwRand: fixed-seed PRNGs on ESP32). */
  random(n: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** SHA-512 (Security 2's SRP6a): require("crypto").SHA512 where the build has it, else JS. */
  sha512(data: Uint8Array): Uint8Array;
  /** Returns an in-place ECB block encryptor for a 32-byte AES key. */
  aes256(key: Uint8Array): (blocks: Uint8Array) => void;
  /** Native dot product for X25519 (E.convolve). */
  convolve: Convolve;
  /** Native gather for X25519's layout copies (E.mapInPlace with a typed-array map). */
  mapInPlace: Gather;
  /** The RSA (MPI) accelerator through peek32/poke32, on boards whose file names one (classic ESP32). */
  mpi?: MpiIo;
  /** Runs fn later, letting the event loop serve radio events (setTimeout 0). */
  defer(fn: () => void): void;
}

/** Key-value persistence for small records (one Storage file per key on the device). */
export interface KvPort {
  read(key: string): string | undefined;
  write(key: string, value: string): void;
  erase(key: string): void;
}

export interface ClockPort {
  /** ms since boot. */
  now(): number;
  /** setTimeout's order, so that Espruino's own setTimeout is the port (no wrapper closure). */
  after(fn: () => void, ms: number): number;
  cancel(id: number): void;
}

/** What the station reports once it has an IP. */
export interface WifiConnectedInfo {
  ip: string;
  /** AP BSSID (6 bytes) when known. */
  bssid?: Uint8Array;
  channel: number;
  /** WifiAuthMode value (wifi_constants.proto). */
  auth: number;
}

export interface WifiEvents {
  connected(info: WifiConnectedInfo): void;
  /** ESP-IDF wifi_err_reason_t code (201 NO_AP_FOUND, 202 AUTH_FAIL, ...). */
  disconnected(reason: number): void;
}

export interface ScanEntry {
  ssid: string;
  bssid: Uint8Array;
  channel: number;
  rssi: number;
  auth: number;
}

export interface WifiPort {
  /** Longest SSID / passphrase the driver keeps intact (Espruino ESP32: 31 / 63). */
  maxSsid: number;
  maxPass: number;
  /** ssid and pass are binary strings (one char per byte). */
  connect(ssid: string, pass: string, ev: WifiEvents): void;
  disconnect(): void;
  scan(cb: (aps: ScanEntry[]) => void): void;
}
