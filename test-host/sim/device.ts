/**
 * A simulated Espruino ESP32 board: runs the very bundle flash.sh uploads (dist/firmware.js) in a Node
 * `vm` context whose globals behave like Espruino's ESP32 port. Boot order as src/jsflash.c
 * jsfLoadBootCodeFromFlash: .boot0 … .boot3, then .bootcde; the banner only when no code was loaded.
 */
import fs from "node:fs";
import nodeCrypto from "node:crypto";
import v8 from "node:v8";
import vm from "node:vm";
import zlib from "node:zlib";
import { SimBle, GattMode } from "./ble";
import { cryptoModule } from "./crypto";
import { espruinoJSON, espruinoLog } from "./format";
import { Scheduler, DEFAULT_SLOWDOWN, DEFAULT_EVENT_MS, CONVOLVE_CALL_MS, CONVOLVE_CALL_LOOPS_MS, MPI_OP_MS, hostCpuMs } from "./scheduler";
import { RsaBlock, ChipInfo, POLL_MS } from "./rsa";
import { PowerCut, SimFlash, storageModule } from "./storage";
import { RadioWorld, SimWifi } from "./wifi";
import { SimHttp } from "./http";

/** Time from reset until JS runs (ESP-IDF logs "I (550) app: …" at about this point). */
export const BOOT_MS = 500;
export const BANNER = [
  " ____                 _ ", "|  __|___ ___ ___ _ _|_|___ ___ ", "|  __|_ -| . |  _| | | |   | . |",
  "|____|___|  _|_| |___|_|_|_|___|", "         |_| espruino.com", " 2v29 (c) 2026 G.Williams", "",
  "Espruino is Open Source. Our work is supported", "only by sales of official boards and donations:", "http://espruino.com/Donate", "",
];

/** The stock ESP32 board: RNG_DATA_REG, the 4 MB layout's Storage area, the JsVars Espruino gives it with BLE and Wi-Fi (boards/esp32.json jsvarsBudget.bleWifi). */
export const DEFAULT_BOARD = { rngRegister: "0x3FF75144", storageBytes: 917504, jsvars: 2500, id: "esp32" };
/** Chips with the classic ESP32's RSA block at 0x3FF02000 (the C3/S3 have a different one, not modelled). */
const HAS_ESP32_RSA = (board: { id: string }) => !/c3|s3/i.test(board.id);

export interface DeviceOptions {
  board?: { rngRegister: string; storageBytes: number; jsvars: number; id: string };
  world?: RadioWorld;
  gatt?: GattMode;
  flashFile?: string;
  slowdown?: number;
  eventMs?: number;
  connIntervalMs?: number;
  /** Base MAC (getSerial / STA MAC). */
  mac?: string;
  echo?: (line: string) => void;
  /** Makes the RSA accelerator model answer wrongly or never finish (tests of the X25519 fallback). */
  rsaFault?: "none" | "wrong" | "stuck";
  /** The chip's revision as its eFuses and APB_CTRL_DATE give it (default: revision 3, dual core). */
  chip?: ChipInfo;
  /** What the flashed Espruino build offers (process.env and globals); defaults to stock 2v29 for ESP32. */
  firmware?: { version?: string; ble?: boolean; crypto?: boolean };
}

export interface LogLine { t: number; line: string }

/**
 * Runs fn (a V8 compile) without billing it as interpreter time: Espruino executes source text as it reads
 * it, so only running the code costs. --no-lazy makes V8 compile every function now rather than on first
 * call, which would otherwise land in the billed run.
 */
function compileUnbilled<T>(sched: Scheduler, fn: () => T): T {
  const t0 = hostCpuMs();
  v8.setFlagsFromString("--no-lazy");
  try { return fn(); } finally { v8.setFlagsFromString("--lazy"); sched.charge(0, hostCpuMs() - t0); }
}

/** Espruino's rand(): multiply-with-carry with fixed seeds, never auto-seeded (src/jsutils.c). */
export function espruinoRand() {
  let w = 0xdeadbeef >>> 0, z = 0xcafebabe >>> 0;
  return () => {
    z = (36969 * (z & 65535) + (z >>> 16)) >>> 0;
    w = (18000 * (w & 65535) + (w >>> 16)) >>> 0;
    return (((z << 16) + w) & 0x7fffffff) >>> 0;
  };
}

/**
 * Math.pow as src/jswrap_math.c jswrap_math_pow computes it: integer exponents 0..9 by repeated
 * multiplication, anything else as exp(log(x)·y), which is not exact even for powers of two
 * (test-host/fixtures/probes/language.js: Math.pow(2,32) printed 4294967295.99999666213).
 */
export function espruinoPow(x: number, y: number): number {
  const yi = Math.trunc(y);
  if (yi >= 0 && yi < 10 && yi === y) { let p = yi ? x : 1; for (let i = yi; i > 1; i--) p *= x; return p; }
  if (x < 0 && y % 1 === 0) return (y % 2 === 0 ? 1 : -1) * Math.exp(Math.log(-x) * y);
  return x !== 0 || 0 >= y ? Math.exp(Math.log(x) * y) : 0;
}

/** Σ a[i]·b[(i+off) mod b.length] (jswrap_espruino.c jswrap_espruino_convolve), without a modulo per element. */
export function convolve(a: ArrayLike<number>, b: ArrayLike<number>, off: number): number {
  const n = b.length, la = a.length;
  let s = 0, i = 0, j = ((off % n) + n) % n;
  for (; i < la; i++) {
    s += a[i]! * b[j]!;
    if (++j === n) j = 0;
  }
  return s;
}

export class SimDevice {
  sched: Scheduler;
  flash: SimFlash;
  nvs = { ble: true, wifi: true };
  log: LogLine[] = [];
  ble!: SimBle;
  wifi!: SimWifi;
  http!: SimHttp;
  ctx!: vm.Context;
  boots = 0;
  rngReads = 0;
  /**
   * RNG register reads while no radio ran (BLE off and Wi-Fi not started): ESP-IDF documents the RNG as a PRNG
   * then (v3.3.6 components/esp32/include/esp_system.h:165-174, esp_random); the model returns a fixed sequence.
   */
  rngReadsRadioOff = 0;
  /** BLE was enabled in NVS at this boot: Espruino starts the controller before JS (targets/esp32/main.c jsble_init). */
  private bleUp = false;
  /**
   * An RF subsystem runs: BLE since boot, or Wi-Fi once started (a SoftAP up or a station connecting). Espruino
   * starts Wi-Fi only after the boot code has run (targets/esp32/main.c: jsiInit, then jswrap_wifi_restore), so the
   * boot code itself runs with the radio off on a board whose BLE is off.
   */
  radioOn(): boolean {
    return this.bleUp || !!this.wifi.ap || this.wifi.status.station !== "off";
  }
  /** The RSA (MPI) accelerator of this boot (hardware state is lost on reset), absent on C3/S3 boards. */
  rsa?: RsaBlock;
  insecureRandomCalls = 0;
  halted = false;
  board: NonNullable<DeviceOptions["board"]>;
  private rebootPending = false;
  /** Device time of the last reset: getTime() counts from it (no SNTP: seconds since power-on). */
  resetAt = 0;

  constructor(public opt: DeviceOptions = {}) {
    this.board = opt.board || DEFAULT_BOARD;
    this.sched = new Scheduler(opt.slowdown ?? DEFAULT_SLOWDOWN, opt.eventMs ?? DEFAULT_EVENT_MS);
    this.flash = new SimFlash(this.board.storageBytes, opt.flashFile);
    this.flash.onHostIo = (ms) => this.sched.charge(0, ms);
    this.sched.onJsError = (e) => this.uncaught(e);
  }

  /** Console listeners (the REPL on --console-port): raw text as the UART would carry it. */
  consoles: { output(text: string): void; booted(soft: boolean): void; setEcho(on: boolean): void }[] = [];

  print(line: string) {
    for (const l of line.split("\n")) {
      this.log.push({ t: this.sched.now, line: l });
      if (this.opt.echo) {
        // What the host does with a printed line (stdout, drawing the QR code) is not interpreter time:
        // billed × the slow-down, drawing one QR code kept the board busy past the client's 30 s limit.
        const t0 = hostCpuMs();
        this.opt.echo(l);
        this.sched.charge(0, hostCpuMs() - t0);
      }
    }
    for (const c of this.consoles) c.output(line + "\n");
  }

  /** Runs source text in the interpreter's global scope (the REPL, `espruino -e`). */
  evaluate(code: string): unknown {
    return compileUnbilled(this.sched, () => new vm.Script(code, { filename: "REPL" })).runInContext(this.ctx);
  }

  private uncaught(e: unknown) {
    if (e instanceof PowerCut) { this.halted = true; this.sched.clear(); return; }
    const err = e as Error;
    this.print("Uncaught " + (err && err.message !== undefined ? (err.name || "Error") + ": " + err.message : String(e)));
  }

  /** Puts code in Storage (what `espruino --storage .boot0:file` does). */
  install(code: string, name = ".boot0") {
    this.flash.writeFile(name, Buffer.from(code, "latin1"));
  }

  /** Power-on / reset: fresh interpreter, same flash and NVS. */
  boot(bootCode = true, soft = false) {
    this.boots++;
    this.halted = false;
    this.rebootPending = false;
    this.sched.clear();
    this.resetAt = this.sched.now;
    this.sched.now += BOOT_MS;
    const mac = this.opt.mac || "24:0a:c4:26:1f:cc";
    const ctx = vm.createContext({});
    this.ctx = ctx;
    const realm = vm.runInContext("({ U8: Uint8Array, U32: Uint32Array, JSON: JSON, Math: Math })", ctx);
    const ab = (b: Uint8Array): ArrayBuffer => { const u = new realm.U8(b.length); u.set(b); return u.buffer; };
    const bytes = (v: any): Uint8Array => {
      if (typeof v === "string") return Buffer.from(v, "latin1");
      if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      if (v && typeof v.byteLength === "number") return new Uint8Array(v).slice();
      if (Array.isArray(v)) return Uint8Array.from(v);
      if (typeof v === "number") return Uint8Array.of(v);
      return new Uint8Array(0);
    };
    const str = (b: Uint8Array) => Buffer.from(b).toString("latin1");
    this.bleUp = this.nvs.ble;
    this.ble = new SimBle(this.sched, this.opt.gatt || "deferred-write", this.nvs.ble, this.opt.connIntervalMs ?? 30, { ab, bytes, str });
    this.wifi = new SimWifi(this.sched, this.opt.world || { aps: [] }, mac, this.board.id);
    this.http = new SimHttp(this.sched);
    this.http.reachable = () => !!this.wifi.ap;
    // Native functions run at C speed on the board: bill their modelled cost, not Node's host time (which
    // the slow-down would multiply as if it were interpreted JS).
    const sch = this.sched;
    const native = <F extends (...a: any[]) => any>(fn: F, ms: (...a: Parameters<F>) => number): F => (function (this: unknown, ...a: Parameters<F>) {
      const t0 = hostCpuMs();
      try { return fn.apply(this, a); } finally { sch.charge(ms(...a), hostCpuMs() - t0); }
    }) as F;
    const S0 = storageModule(this.flash, { u8: (b) => { const u = new realm.U8(b.length); u.set(b); return u; }, ab, json: espruinoJSON });
    const S: typeof S0 = { ...S0 };
    for (const k of Object.keys(S0) as (keyof typeof S0)[]) {
      // jsflash.c on SPI flash: ~1 ms of bookkeeping plus ~4 µs per byte written (≈250 KB/s with erase).
      if (typeof S0[k] === "function") (S as any)[k] = native(S0[k] as any, (_n: unknown, d?: unknown) => 1 + (typeof d === "string" ? d.length * 0.004 : 0));
    }
    const C = cryptoModule({ ab });
    const W = this.wifi.api(), N = this.ble.api(), H = this.http.api(), sched = this.sched, dev = this;
    const rand = espruinoRand(), rngOff = espruinoRand(); // rngOff: the same sequence on every boot, as a PRNG would give
    // Last E.convolve call: its JS item and when it ended (host CPU ms); generated: the firmware built its X25519
    // field code with Function (generatedOps) rather than running loopOps, whose calls cost more (CONVOLVE_CALL_LOOPS_MS).
    const cv = { item: -1, end: 0, generated: false };
    // The RSA block (test-host/sim/rsa.ts). Each operation started charges MPI_OP_MS, the measured
    // interpreter cost of the accelerated X25519 per operation (its pokes, peeks and all its JS, slices
    // included: npm run bench measures the whole X25519). Every slice of it is a JS item of its own (the firmware
    // defers even the first), so the host time of such an item up to its last access to the block (the slice's
    // JS, the model's BigInt arithmetic, MODEXP's included) is not billed again; what follows the last access
    // (the key agreement's continuation after the final slice) is billed as any JS.
    const rsa = HAS_ESP32_RSA(this.board) ? new RsaBlock(this.opt.chip) : undefined;
    this.rsa = rsa;
    const mp = { item: -1, at: 0 };
    const rsaTimed = <T>(fn: () => T): T => {
      // With no slow-down nothing is billed, so the host clock (process.cpuUsage(), a system call that was half
      // the fuzzer's time in accelerated X25519s) is not read.
      if (!sched.slowdown) return fn();
      try { return fn(); } finally {
        const t1 = hostCpuMs();
        sched.charge(0, t1 - (mp.item === sched.item ? mp.at : sched.itemHostStart));
        mp.item = sched.item;
        mp.at = t1;
      }
    };
    if (rsa) {
      rsa.fault = this.opt.rsaFault || "none";
      rsa.onOp = () => sched.charge(MPI_OP_MS, 0);
      rsa.onPoll = () => sched.charge(POLL_MS, 0);
      rsa.now = () => sched.deviceNow();
      // Without slow-down no device time passes within a JS item (getTime stands still): the block answers at once.
      rsa.slow = sched.slowdown / DEFAULT_SLOWDOWN;
    }
    const rng = parseInt(this.board.rngRegister, 16);
    // Espruino's peek32/poke32 (src/jswrap_io.c): count > 1 reads a Uint32Array of consecutive words; poke32
    // stores a number or each element of an array in turn. Only modelled peripherals may be touched.
    const noPeripheral = (fn: string, addr: number) => new Error(`${fn}: no peripheral modelled at 0x${(addr >>> 0).toString(16)}`);
    const peekWord = (addr: number): number => {
      if (addr === rng) {
        dev.rngReads++;
        if (dev.radioOn()) return nodeCrypto.randomBytes(4).readUInt32LE(0);
        dev.rngReadsRadioOff++;
        return rngOff();
      }
      if (rsa && RsaBlock.covers(addr)) return rsa.read(addr);
      throw noPeripheral("peek32", addr);
    };
    const pokeWord = (addr: number, v: number) => {
      if (rsa && RsaBlock.covers(addr)) return rsa.write(addr, v);
      throw noPeripheral("poke32", addr);
    };
    // Espruino's timer list (src/jsinteractive.c jsiTimerAdd → src/jsvar.c jsvArrayAddToEnd): a new timer's id is the
    // newest live timer's id + 1, or 1 when none is live, so ids are reused and a stale id can cancel a later timer.
    // A timer stays live while its callback runs and is removed afterwards (jsiIdle). Map order is the list's order.
    const timers = new Map<number, number>();
    const addTimer = (fn: unknown, ms: number, repeat: boolean, args: unknown[]) => {
      // src/jswrap_interactive.c _jswrap_interface_setTimeoutOrInterval: a function or a string of code, and an
      // interval below TIMER_MIN_INTERVAL (0.1 ms, src/jsinteractive.h) or not a number is that minimum.
      if (typeof fn !== "function" && typeof fn !== "string") throw new Error("Function or String not supplied!");
      const run = typeof fn === "function" ? () => fn(...args) : () => vm.runInContext(fn, ctx);
      let id = 1;
      for (const k of timers.keys()) id = k + 1;
      const n = Number(ms), period = n >= 0.1 ? n : 0.1;
      let due = sched.now + period;
      const arm = () => timers.set(id, sched.at(due, true, () => {
        if (repeat) { due += Math.max(period, 1); arm(); return run(); }
        try { run(); } finally { timers.delete(id); }
      }));
      arm();
      return id;
    };
    // _jswrap_interface_clearTimeoutOrInterval: no argument clears every timer, an explicit undefined is an error,
    // an id that is not live is ignored.
    const clearTimer = (kind: string) => (...a: unknown[]) => {
      if (a.length === 0) {
        for (const t of timers.values()) sched.cancel(t);
        timers.clear();
        return;
      }
      if (a[0] === undefined) throw new Error(`clear${kind}(undefined) not allowed. Use clear${kind}() instead`);
      const id = Number(a[0]), t = timers.get(id);
      if (t) sched.cancel(t);
      timers.delete(id);
    };
    const fw = this.opt.firmware || {};
    const latin1 = (s: unknown) => Buffer.from(String(s), "latin1");
    const g: Record<string, unknown> = {
      // Espruino's atob/btoa work on 8-bit strings (jswrap_espruino.c / jswrap_string.c).
      atob: native((s: string) => Buffer.from(String(s), "base64").toString("latin1"), (s) => 0.1 + String(s).length * 0.0005),
      btoa: native((s: string) => latin1(s).toString("base64"), (s) => 0.1 + String(s).length * 0.0005),
      // jswrap_interactive.c: load() re-runs the boot code, reset() clears RAM without it.
      load: () => dev.scheduleReboot(true),
      reset: () => dev.scheduleReboot(true, false),
      echo: (on: boolean) => { for (const c of dev.consoles) c.setEcho(!!on); },
      console: { log: (...a: unknown[]) => dev.print(espruinoLog(a)) },
      print: (...a: unknown[]) => dev.print(espruinoLog(a)),
      require: (name: string) => {
        if (name === "Storage") return S;
        if (name === "Wifi") return W;
        if (name === "crypto" && fw.crypto !== false) return C;
        if (name === "http") return H;
        throw new Error(`Module ${name} not found`);
      },
      setTimeout: (fn: unknown, ms: number, ...args: unknown[]) => addTimer(fn, ms, false, args),
      setInterval: (fn: unknown, ms: number, ...args: unknown[]) => addTimer(fn, ms, true, args),
      clearTimeout: clearTimer("Timeout"),
      clearInterval: clearTimer("Interval"),
      // Within a JS item the clock advances by the device time charged so far (native work the model bills), so a
      // wait bounded by getTime() ends in the simulator as on the board (jshGetSystemTime is gettimeofday).
      getTime: () => (sched.deviceNow() - dev.resetAt) / 1000,
      getSerial: () => mac.replace(/:/g, "").replace(/^(.{8})/, "$1-"),
      peek32: (addr: number, count?: number) => {
        const read = () => {
          if (!(count! > 1)) return peekWord(addr);
          const out = new realm.U32(count);
          // Words of the RSA block's memories in one copy (the same values as word by word).
          if (rsa && rsa.readWords(addr, out)) return out;
          for (let i = 0; i < count!; i++) out[i] = peekWord(addr + 4 * i);
          return out;
        };
        return rsa && RsaBlock.covers(addr) ? rsaTimed(read) : read();
      },
      poke32: (addr: number, v: unknown) => {
        const write = () => {
          if (typeof v === "number") return pokeWord(addr, v);
          const a = v as ArrayLike<number>;
          if (rsa && rsa.writeWords(addr, a)) return;
          for (let i = 0; i < a.length; i++) pokeWord(addr + 4 * i, Number(a[i]));
        };
        return rsa && RsaBlock.covers(addr) ? rsaTimed(write) : write();
      },
      ...(fw.ble === false ? {} : { NRF: N }),
      E: {
        // jswrap_espruino.c jswrap_espruino_convolve. Each call also charges its measured interpreter
        // cost (CONVOLVE_CALL_MS) instead of host time: Node's JIT runs these loops far faster, relatively,
        // than anything else the firmware does, so a uniform slow-down would make X25519 look cheap.
        // The charge covers the field code between two calls of one JS item as well (the constant is all
        // X25519 instructions over all calls), so that host time is not billed a second time.
        convolve: (a: ArrayLike<number>, b: ArrayLike<number>, off: number) => {
          // With no slow-down nothing is billed, so the host clock is not read (the fuzzer's X25519s).
          if (!sched.slowdown) return convolve(a, b, off);
          const h0 = hostCpuMs();
          const gap = cv.item === sched.item ? h0 - cv.end : 0;
          const s = convolve(a, b, off);
          cv.end = hostCpuMs();
          cv.item = sched.item;
          sched.charge(cv.generated ? CONVOLVE_CALL_MS : CONVOLVE_CALL_LOOPS_MS, cv.end - h0 + gap);
          return s;
        },
        // jswrap_espruino.c jswrap_espruino_mapInPlace: reads `bits`-bit fields of `from` (msb first; lsb first
        // when bits < 0; 0 means from's element size) as integers, maps each through a function, an array or
        // an ArrayBuffer view (undefined: straight through) and writes them to `to` until either runs out.
        // Not charged on its own: the firmware calls it only inside X25519, whose whole interpreter cost
        // CONVOLVE_CALL_MS already spreads over the E.convolve calls (it would be billed twice).
        mapInPlace: (from: unknown, to: unknown, map: unknown, bits = 0) => {
          const isView = (v: unknown): v is { length: number; BYTES_PER_ELEMENT: number; [i: number]: number } => ArrayBuffer.isView(v) && !(v instanceof DataView);
          if (!isView(from) || !isView(to)) throw new Error("First 2 arguments should be array buffers");
          if (map !== undefined && typeof map !== "function" && !Array.isArray(map) && !isView(map)) throw new Error("Third argument should be a function or array");
          const bitsFrom = 8 * from.BYTES_PER_ELEMENT, msbFirst = bits >= 0;
          bits = Math.abs(bits) || bitsFrom;
          let fi = 0, ti = 0, el = 0, b = 0;
          while ((fi < from.length || b >= bits) && ti < to.length) {
            const index = fi;
            while (b < bits) {
              const x = Math.trunc(Number(from[fi++])) | 0; // jsvArrayBufferIteratorGetIntegerValue (JsVarInt)
              if (msbFirst) el = (el << bitsFrom) | x; else el |= x << b;
              b += bitsFrom;
            }
            let v: number;
            if (msbFirst) v = (el >> (b - bits)) & ((1 << bits) - 1);
            else { v = el & ((1 << bits) - 1); el >>= bits; }
            b -= bits;
            to[ti++] = map === undefined ? v : typeof map === "function" ? (map as (v: number, i: number) => number)(v, index) : (map as ArrayLike<number>)[v]!;
          }
        },
        hwRand: () => { dev.insecureRandomCalls++; return rand() | 0; },
        srand: () => { /* not modelled */ },
        toUint8Array: (v: unknown) => { const b = bytes(v); const u = new realm.U8(b.length); u.set(b); return u; },
        toString: (v: unknown) => str(bytes(v)),
        internal: this.ble.internal,
        getErrorFlags: () => [],
        reboot: () => dev.scheduleReboot(),
        // jswrap_espruino.c E.CRC32: the standard CRC-32 (as zlib) of a string or array.
        CRC32: native((v: unknown) => zlib.crc32(bytes(v)), (v) => 0.1 + (Number((v as { length?: number })?.length) || 0) * 0.0002),
        on: () => { /* E.on('init') is not used */ },
      },
      ESP32: {
        reboot: () => dev.scheduleReboot(),
        enableBLE: (on: boolean) => {
          dev.nvs.ble = !!on;
          // jswrap_esp32.c: jsfRemoveCodeFromFlash() then esp_restart()
          dev.print("Erasing saved code.");
          for (const f of [".bootcde", ".bootrst", ".varimg"]) dev.flash.files.delete(f);
          dev.flash.persist();
          dev.print("Done!");
          dev.scheduleReboot();
        },
        enableWifi: (on: boolean) => { dev.nvs.wifi = !!on; dev.scheduleReboot(); },
        getState: () => ({ sdkVersion: "v3.3.6", freeHeap: 120000, BLE: dev.nvs.ble, Wifi: dev.nvs.wifi, minHeap: 100000 }),
      },
      process: {
        // jswrap_process.c jswrap_process_env; MODULES from the board file's libraries (boards/ESP32.py).
        env: {
          VERSION: fw.version || "2v29", GIT_COMMIT: "8b0f0d1", BOARD: "ESP32", RAM: 0, FLASH: 0, SPIFLASH: 4194304,
          STORAGE: dev.board.storageBytes, SERIAL: mac.replace(/:/g, "").replace(/^(.{8})/, "$1-"), CONSOLE: "Serial1",
          MODULES: "Flash,Storage,heatshrink,fs,net,dgram,http,NetworkJS,Wifi,TelnetServer" + (fw.crypto === false ? "" : ",crypto") + ",neopixel",
          EXPTR: 1073484860,
        },
        memory: () => ({ free: dev.board.jsvars, usage: 0, total: dev.board.jsvars, history: 0, gc: 0, gctime: 0, blocksize: 14 }),
      },
    };
    Object.assign(ctx, g);
    vm.runInContext("var global = this; JSON.stringify = __json; delete this.__json; Math.random = __rand; delete this.__rand; Math.pow = __pow; delete this.__pow;", Object.assign(ctx, {
      __json: (v: unknown) => (v === undefined ? "null" : espruinoJSON(v)),
      __rand: () => { dev.insecureRandomCalls++; return rand() / 0x80000000; },
      __pow: espruinoPow,
    }));
    // `new Function(src)` compiles too (Espruino just keeps the text).
    const RealFunction = vm.runInContext("Function", ctx) as FunctionConstructor;
    const CompileTimedFunction = function (...a: string[]) { cv.generated = true; return compileUnbilled(sched, () => RealFunction(...a)); };
    CompileTimedFunction.prototype = RealFunction.prototype;
    ctx.Function = CompileTimedFunction;
    if (!this.nvs.ble) this.print("WARNING: Bluetooth is disabled per ESP32.enableBLE(false)");
    let ran = false;
    for (const f of [".boot0", ".boot1", ".boot2", ".boot3", ".bootcde"]) {
      const code = bootCode ? this.flash.files.get(f) : undefined;
      if (!code) continue;
      ran = true;
      sched.at(sched.now, true, () => compileUnbilled(sched, () => new vm.Script(Buffer.from(code).toString("latin1"), { filename: f })).runInContext(ctx));
    }
    if (!ran) BANNER.forEach((l) => this.print(l.replace("2v29", this.version())));
    this.sched.step();
    for (const c of this.consoles) c.booted(soft);
  }

  /** ESP32.reboot()/E.reboot() (a CPU reset with the ROM's lines), or load()/reset() (soft, no ROM lines). */
  scheduleReboot(soft = false, bootCode = true) {
    if (this.rebootPending) return;
    this.rebootPending = true;
    // A soft reset happens inside the running line (jsiSoftKill/jsiSoftInit); a CPU reset takes a moment.
    this.sched.at(this.sched.now + (soft ? 0 : 50), false, () => {
      if (!soft) {
        this.print("");
        this.print("ets Jun  8 2016 00:22:57");
        this.print("rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)");
      }
      this.boot(bootCode, soft);
    });
  }

  /** Runs the board for ms of device time. */
  run(ms: number) {
    this.sched.runUntil(this.sched.now + ms);
  }

  /** Runs until a log line matches (or ms pass); returns the line. */
  waitFor(re: RegExp, ms = 120000): string | undefined {
    const from = this.log.length;
    let hit: string | undefined;
    this.sched.runWhile(() => {
      for (let i = from; i < this.log.length; i++) if (re.test(this.log[i]!.line)) { hit = this.log[i]!.line; return true; }
      return false;
    }, ms);
    return hit;
  }

  /** process.env.VERSION of the simulated Espruino build. */
  version(): string {
    return this.opt.firmware?.version || "2v29";
  }

  lines(): string[] {
    return this.log.map((l) => l.line);
  }
}

/** Loads dist/firmware.js (building is the caller's job: npm run build). */
export function loadBundle(file = "dist/firmware.js"): string {
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run npm run build first`);
  return fs.readFileSync(file, "latin1");
}
