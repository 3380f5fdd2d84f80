/**
 * The Espruino APIs this firmware uses, declared from Espruino's own docs/sources (only what the ESP32
 * port provides; see docs/espruino-esp32.md). Nothing outside src/platform/espruino and
 * src/main.ts may use them.
 */
interface EspruinoStorage {
  read(name: string, offset?: number, length?: number): string | undefined;
  write(name: string, data: string | Uint8Array, offset?: number, size?: number): boolean;
  erase(name: string): void;
  list(re?: RegExp): string[];
}
interface EspruinoWifi {
  connect(ssid: string, options: { password?: string }, cb?: (err?: string | null) => void): void;
  disconnect(cb?: () => void): void;
  scan(cb: (aps: { ssid: string; mac: string; channel: string | number; rssi: number; authMode: string }[]) => void): void;
  getStatus(): { station?: string; authMode?: string; channel?: number; rssi?: number };
  getIP(): { ip: string; mac: string };
  on(ev: string, fn: (d: any) => void): void;
  startAP(ssid: string, options: { password?: string; authMode?: string; channel?: number }, cb?: (err?: any) => void): void;
  stopAP(cb?: () => void): void;
}
/** libs/network/http/jswrap_http.c: the server side of require("http"). */
interface EspruinoHttpRequest {
  method: string;
  url: string;
  headers: { [name: string]: string };
  on(ev: "data", fn: (chunk: string) => void): void;
  on(ev: "end" | "close", fn: () => void): void;
}
interface EspruinoHttpResponse {
  writeHead(status: number, headers?: { [name: string]: string | number }): void;
  write(data: string): void;
  end(data?: string): void;
  on(ev: "drain" | "close", fn: () => void): void;
}
/** libs/network/jswrap_net.c: require("dgram"). */
interface EspruinoDgramSocket {
  bind(port: number, cb?: () => void): EspruinoDgramSocket;
  on(ev: "message", fn: (msg: string, rinfo: { address: string; port: number; size: number }) => void): void;
  send(msg: string, port: number, address: string): void;
  close(): void;
}
interface EspruinoHttp {
  createServer(fn: (req: EspruinoHttpRequest, res: EspruinoHttpResponse) => void): { listen(port: number): void; close(): void };
}
interface EspruinoCrypto {
  SHA256(data: string | Uint8Array): ArrayBuffer;
  /** USE_SHA512 builds (boards/ESP32.py): libs/crypto/jswrap_crypto.c. */
  SHA512(data: string | Uint8Array): ArrayBuffer;
  AES: { encrypt(data: Uint8Array, key: Uint8Array, opt: { mode: string; iv?: Uint8Array }): ArrayBuffer };
}
declare function require(name: "Storage"): EspruinoStorage;
declare function require(name: "Wifi"): EspruinoWifi;
declare function require(name: "crypto"): EspruinoCrypto;
declare function require(name: "http"): EspruinoHttp;
declare function require(name: "dgram"): { createSocket(type: "udp4"): EspruinoDgramSocket };
declare var NRF: {
  setServices(services: any, options?: { uart?: boolean; advertise?: string[] }): void;
  updateServices(services: any): void;
  setAdvertising(data: any, options?: any): void;
  disconnect(): void;
  on(ev: string, fn: (arg?: any) => void): void;
  /** Object.prototype.emit: listeners run later, queued behind the events already waiting. */
  emit(ev: string, arg?: any): void;
};
declare var E: {
  /** Σ a[i]·b[(i+offset) % b.length] over any iterables, in doubles (jswrap_espruino.c jswrap_espruino_convolve). */
  convolve(a: ArrayLike<number>, b: ArrayLike<number>, offset: number): number;
  /** to[i] = map[from[i]] with typed arrays (jswrap_espruino.c jswrap_espruino_mapInPlace, bits 0). */
  mapInPlace(from: Uint8Array, to: Float64Array, map: Float64Array): void;
  internal?: { [k: string]: any };
  toUint8Array(v: any): Uint8Array;
  toString(v: Uint8Array): string;
  /** The standard CRC-32 of a string or array (jswrap_espruino.c jswrap_espruino_CRC32). */
  CRC32(v: string): number;
};
declare var ESP32: {
  reboot(): void;
  enableBLE(on: boolean): void;
  getState(): { BLE: boolean; Wifi: boolean; freeHeap: number };
};
declare var global: any;
declare function peek32(addr: number, count?: number): any;
/** src/jswrap_io.c jswrap_io_poke: one 32-bit store per element, in order. */
declare function poke32(addr: number, value: number | ArrayLike<number>): void;
declare function getSerial(): string;
declare function getTime(): number;
// No interval is the minimum interval (src/jswrap_interactive.c _jswrap_interface_setTimeoutOrInterval: NaN → TIMER_MIN_INTERVAL).
declare function setTimeout(fn: () => void, ms?: number): number;
declare function clearTimeout(id: number): void;
declare function setInterval(fn: () => void, ms: number): number;
declare function clearInterval(id: number): void;
/** src/jswrap_io.c jswrap_io_pinMode. */
declare function pinMode(pin: number, mode: "input" | "input_pullup" | "input_pulldown" | "output"): void;
/** src/jswrap_io.c jswrap_interface_setWatch: the callback runs from the JS loop with the debounced level. */
declare function setWatch(fn: (e: { state: boolean; time: number; lastTime: number }) => void, pin: number,
  options: { repeat?: boolean; edge?: "rising" | "falling" | "both"; debounce?: number }): number;
declare var console: { log(...a: any[]): void };
