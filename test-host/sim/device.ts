/**
 * A simulated Espruino ESP32 board: runs the very bundle flash.sh uploads (dist/firmware.js) in a Node
 * `vm` context whose globals behave like Espruino's ESP32 port. Boot order as src/jsflash.c
 * jsfLoadBootCodeFromFlash: .boot0 … .boot3, then .bootcde; the banner only when no code was loaded.
 */
import fs from "node:fs";
import nodeCrypto from "node:crypto";
import path from "node:path";
import vm from "node:vm";
import zlib from "node:zlib";
import { SimBle, GattMode } from "./ble";
import { cryptoModule } from "./crypto";
import { espruinoJSON, espruinoLog } from "./format";
import { Scheduler, DEFAULT_SLOWDOWN, DEFAULT_EVENT_MS } from "./scheduler";
import { COUNTERS, COMPLETION, instrument } from "./cost";
import { COST, Native, nativeCost } from "./cost-table";
import { RsaBlock, ChipInfo } from "./rsa";
import { PowerCut, SimFlash, storageModule } from "./storage";
import { RadioWorld, SimWifi } from "./wifi";
import { SimNvs } from "./nvs";
import { SimHttp } from "./http";
import { SimDgram } from "./dgram";

/** Time from reset until JS runs (ESP-IDF logs "I (550) app: …" at about this point). */
export const BOOT_MS = 500;
export const BANNER = [
  " ____                 _ ", "|  __|___ ___ ___ _ _|_|___ ___ ", "|  __|_ -| . |  _| | | |   | . |",
  "|____|___|  _|_| |___|_|_|_|___|", "         |_| espruino.com", " 2v29 (c) 2026 G.Williams", "",
  "Espruino is Open Source. Our work is supported", "only by sales of official boards and donations:", "http://espruino.com/Donate", "",
];

/** A board file (boards/ID.json): the clock its Espruino build runs at. */
export function boardClockMhz(id: string): number {
  return JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../boards", id + ".json"), "utf8")).cpuMhz;
}
/**
 * The stock ESP32 board: RNG_DATA_REG, the 4 MB layout's Storage area, the JsVars Espruino gives it with BLE and Wi-Fi
 * (boards/esp32.json jsvarsBudget.bleWifi); its clock is its board file's (cpuMhz), as for any board without one given.
 */
export const DEFAULT_BOARD: { rngRegister: string; storageBytes: number; jsvars: number; id: string; cpuMhz?: number } = { rngRegister: "0x60035144", storageBytes: 917504, jsvars: 2500, id: "esp32" };
/** Chips with the classic ESP32's RSA block at 0x3FF02000 (the C3/S3 have a different one, not modelled). */
const HAS_ESP32_RSA = (board: { id: string }) => !/c3|s3/i.test(board.id);

export interface DeviceOptions {
  board?: { rngRegister: string; storageBytes: number; jsvars: number; id: string; cpuMhz?: number };
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
 * What a (re)start runs besides the boot files .boot0…3: true (power-on, load()): the saved state and .bootcde;
 * "reset" (reset()): .bootrst only; { file } (load(file)): .bootrst, then that Storage file; false: nothing at all.
 */
export type BootCode = boolean | "reset" | { file: string };

/** A script as the simulated interpreter runs it: instrumented to count its work (test-host/sim/cost.ts); flash: read from Storage. */
function script(code: string, filename: string, flash = false): vm.Script {
  return new vm.Script(instrument(code, { flash }), { filename });
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
  /** BLE/Wi-Fi on or off as ESP32.enableBLE/enableWifi left them; kept beside the flash file, as NVS outlives a power cycle. */
  nvs: SimNvs;
  log: LogLine[] = [];
  ble!: SimBle;
  wifi!: SimWifi;
  http!: SimHttp;
  dgram!: SimDgram;
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
  /** GPIO levels (true = high; an unset pin reads high, as a button with pull-up) and the setWatch list. */
  pins = new Map<number, boolean>();
  private watches: { id: number; pin: number; fn: (e: object) => void; repeat: boolean; edge: number; debounce: number; state: boolean; last: number }[] = [];

  /**
   * The RNG register: a stream of its own per board, SHA-256 over (MAC, boot number, read number), so boards
   * with different MACs draw different numbers and a run can be repeated. Not modelled: on the chip the values
   * are only truly random while Wi-Fi or Bluetooth runs (ESP-IDF esp_random.h).
   */
  rngWord(): number {
    return nodeCrypto.createHash("sha256").update(`${this.mac()}/${this.boots}/${this.rngReads++}`).digest().readUInt32LE(0);
  }

  mac(): string {
    return this.opt.mac || "24:0a:c4:26:1f:cc";
  }

  /**
   * Drives a GPIO as a button or wire would. Watches see it as src/jswrap_io.c setWatch describes: with
   * `debounce` ms an edge counts only once the level has been stable that long (then the callback gets the
   * new state); `edge` filters rising/falling; without `repeat` the watch goes after its first call.
   */
  setPin(pin: number, level: boolean) {
    if ((this.pins.get(pin) ?? true) === level) return;
    this.pins.set(pin, level);
    const at = this.sched.now;
    for (const w of this.watches.filter((x) => x.pin === pin)) {
      this.sched.at(at + w.debounce, false, () => {
        if (!this.watches.includes(w) || (this.pins.get(pin) ?? true) !== level || w.state === level) return;
        const e = { state: level, time: (at - this.resetAt) / 1000, lastTime: (w.last - this.resetAt) / 1000 };
        w.state = level;
        w.last = at;
        if (w.edge === 0 || (w.edge > 0) === level) {
          if (!w.repeat) this.watches = this.watches.filter((x) => x !== w);
          this.sched.at(this.sched.now, true, () => w.fn(e));
        }
      });
    }
  }

  /** A button to ground on `pin` held for ms, with a few contact bounces in its first 3 ms. */
  press(pin: number, ms: number) {
    const t = this.sched.now;
    this.setPin(pin, false);
    this.sched.at(t + 1, false, () => this.setPin(pin, true));
    this.sched.at(t + 2, false, () => this.setPin(pin, false));
    this.sched.at(t + ms, false, () => this.setPin(pin, true));
  }
  halted = false;
  board: NonNullable<DeviceOptions["board"]>;
  world: RadioWorld;
  private rebootPending = false;
  /** Device time of the last reset: getTime() counts from it (no SNTP: seconds since power-on). */
  resetAt = 0;

  constructor(public opt: DeviceOptions = {}) {
    this.board = opt.board || DEFAULT_BOARD;
    // The board's own copy of the radio world: a world that changes while it runs stays changed across reboots.
    this.world = structuredClone(opt.world || { aps: [] });
    // A board without its clock given is the board file's of its id (a C3 runs at 160 MHz).
    this.sched = new Scheduler(opt.slowdown ?? DEFAULT_SLOWDOWN, opt.eventMs ?? DEFAULT_EVENT_MS, this.board.cpuMhz ?? boardClockMhz(this.board.id));
    this.flash = new SimFlash(this.board.storageBytes, opt.flashFile);
    this.nvs = new SimNvs(opt.flashFile && SimNvs.besideFlash(opt.flashFile));
    this.sched.onJsError = (e) => this.uncaught(e);
  }

  /** Built-in calls and their units of work so far, per kind (the bench's calibration reads them). */
  nativeTally: Partial<Record<Native, { calls: number; units: number }>> = {};
  /** A built-in ran: its cost from the table joins the interpreter's work. */
  bill(kind: Native, units: number) {
    this.sched.counters.n += nativeCost(COST, kind, units);
    const t = (this.nativeTally[kind] ??= { calls: 0, units: 0 });
    t.calls++;
    t.units += units;
  }

  /** Console listeners (the REPL on --console-port): raw text as the UART would carry it. */
  consoles: { output(text: string): void; booted(soft: boolean): void; setEcho(on: boolean): void }[] = [];

  print(line: string) {
    for (const l of line.split("\n")) {
      this.log.push({ t: this.sched.now, line: l });
      if (this.opt.echo) {
        this.opt.echo(l);
      }
    }
    for (const c of this.consoles) c.output(line + "\n");
  }

  /** Lines run at the REPL since the last reset: what this simulator's save() keeps (see saveImage). */
  replLines: string[] = [];
  private restoring = false;

  /** Runs source text in the interpreter's global scope (the REPL, `espruino -e`). */
  evaluate(code: string): unknown {
    if (!this.restoring) this.replLines.push(code);
    return script(code, "REPL").runInContext(this.ctx);
  }

  /**
   * save() once the interpreter is idle (src/jsinteractive.c JSIS_TODO_FLASH_SAVE → src/jsflash.c jsfSaveToFlash,
   * 2v29 on ESP32): erases the old .varimg, writes the new one, prints what Espruino prints. Espruino's .varimg is the
   * whole interpreter memory (JsVars, heatshrink-compressed, behind a build hash) and restores every variable, timer
   * and function, the firmware's own included; this simulator cannot copy a V8 context, so its .varimg holds the REPL
   * lines run since the last reset and a power-on replays them before the boot files. Not modelled: the
   * boot code Espruino re-runs right after saving (jsiSoftInit(false)).
   */
  saveImage() {
    const img = Buffer.from(JSON.stringify({ simulatorReplLines: this.replLines }), "latin1");
    this.print("Compacting Flash...");
    this.print("Calculating Size...");
    this.flash.files.delete(".varimg");
    this.flash.writeFile(".varimg", img);
    this.print("Writing..");
    this.print(`Compressed ${this.board.jsvars * 16} bytes to ${img.length + 4}`);
  }

  /** jsfRemoveCodeFromFlash (src/jsflash.c): what reset(true) and ESP32.enableBLE/enableWifi erase. */
  eraseSavedCode() {
    this.print("Erasing saved code.");
    for (const f of [".varimg", ".bootcde", ".bootrst"]) this.flash.files.delete(f);
    this.flash.persist();
    this.print("Done!");
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

  /**
   * Puts the provisioning page into Storage as `npm run flash` does (dist/portal.html.gz → portal.html.gz);
   * false when the page has not been built.
   */
  installPage(file = "dist/portal.html.gz"): boolean {
    if (!fs.existsSync(file)) return false;
    this.flash.writeFile("portal.html.gz", fs.readFileSync(file));
    return true;
  }

  /** Power-on / reset: fresh interpreter, same flash and NVS; bootCode says what runs (BootCode). */
  boot(bootCode: BootCode = true, soft = false) {
    this.boots++;
    this.halted = false;
    this.rebootPending = false;
    this.sched.clear();
    this.resetAt = this.sched.now;
    this.sched.now += BOOT_MS;
    const mac = this.mac();
    this.watches = []; // a reset clears the watches (jsiSoftKill)
    const ctx = vm.createContext({});
    this.ctx = ctx;
    // The work counters (test-host/sim/cost.ts) as a lexical binding of the context: every script sees it, fast.
    vm.runInContext(`const ${COUNTERS} = this.${COUNTERS}; delete this.${COUNTERS}; Object.defineProperty(this, "${COMPLETION}", { value: 0, writable: true });`, Object.assign(ctx, { [COUNTERS]: this.sched.counters }));
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
    this.wifi = new SimWifi(this.sched, this.world, mac, this.board.id);
    this.http = new SimHttp(this.sched);
    this.http.reachable = () => !!this.wifi.ap;
    this.dgram = new SimDgram(this.sched);
    this.dgram.reachable = this.http.reachable;
    this.http.otherSockets = () => this.dgram.open;
    // Built-ins run as C on the board: each call adds its cost from the table (test-host/sim/cost-table.ts) for the
    // work its arguments (or result) give it, in the same instructions as the interpreted code.
    const bill = (kind: Native, units: number) => this.bill(kind, units);
    // Units of work: characters of a string, elements of an array or typed array (words of a Uint32Array), bytes of an ArrayBuffer.
    const len = (v: unknown): number => (typeof v === "string" ? v.length : Number((v as { length?: number })?.length ?? (v as { byteLength?: number })?.byteLength) || 0);
    let inNative = 0;
    const native = <F extends (...a: any[]) => any>(kind: Native, fn: F, units: (r: ReturnType<F>, ...a: Parameters<F>) => number): F => (function (this: unknown, ...a: Parameters<F>) {
      let r: ReturnType<F>;
      inNative++;
      try { r = fn.apply(this, a); } finally { inNative--; }
      bill(kind, units(r, ...a));
      return r;
    }) as F;
    const S0 = storageModule(this.flash, { u8: (b) => { const u = new realm.U8(b.length); u.set(b); return u; }, ab, json: espruinoJSON });
    const S: typeof S0 = { ...S0 };
    for (const k of Object.keys(S0) as (keyof typeof S0)[]) {
      // src/jsflash.c: a write's bytes (JSON text for writeJSON), a read's result; list/erase/getFree as a call.
      if (typeof S0[k] !== "function") continue;
      const writes = /^write/.test(k);
      (S as any)[k] = native(writes ? "storageWrite" : "storageRead", S0[k] as any, (r: unknown, _n: unknown, d?: unknown) => (writes ? (k === "writeJSON" ? len(espruinoJSON(d)) : len(d)) : len(r)));
    }
    const C0 = cryptoModule({ ab });
    const C = {
      ...C0,
      SHA1: native("sha256", C0.SHA1, (_r, d) => len(d)), SHA224: native("sha256", C0.SHA224, (_r, d) => len(d)),
      SHA256: native("sha256", C0.SHA256, (_r, d) => len(d)), SHA384: native("sha256", C0.SHA384, (_r, d) => len(d)), SHA512: native("sha256", C0.SHA512, (_r, d) => len(d)),
      AES: { encrypt: native("aes", C0.AES.encrypt, (_r, d) => len(d)), decrypt: native("aes", C0.AES.decrypt, (_r, d) => len(d)) },
    };
    const W = this.wifi.api(), N = this.ble.api(), H = this.http.api(), U = this.dgram.api(), sched = this.sched, dev = this;
    const rand = espruinoRand(), rngOff = espruinoRand(); // rngOff: the same sequence on every boot, as a PRNG would give
    // The RSA block (test-host/sim/rsa.ts): an operation takes the time rsa.ts gives it on the device's clock, which
    // inside a JS item advances with the work counted so far (the firmware's polls, peeks and pokes: their calls
    // are priced as every other call, peek32/poke32 by the cost table).
    const rsa = HAS_ESP32_RSA(this.board) ? new RsaBlock(this.opt.chip) : undefined;
    this.rsa = rsa;
    if (rsa) {
      rsa.fault = this.opt.rsaFault || "none";
      rsa.now = () => sched.deviceNow();
      // Without slow-down no device time passes within a JS item (getTime stands still): the block answers at once.
      rsa.slow = sched.slowdown / DEFAULT_SLOWDOWN;
    }
    const rng = parseInt(this.board.rngRegister, 16);
    // Espruino's peek32/poke32 (src/jswrap_io.c): count > 1 reads a Uint32Array of consecutive words; poke32
    // stores a number or each element of an array in turn. Only modelled peripherals may be touched.
    const noPeripheral = (fn: string, addr: number) => new Error(`${fn}: no peripheral modelled at 0x${(addr >>> 0).toString(16)}`);
    const peekWord = (addr: number): number => {
      // The RNG register is entropic only while a radio runs (ESP-IDF esp_system.h esp_random): with the radio
      // off it gives the same sequence on every boot, as a PRNG would; the reads are counted so tests can forbid them.
      if (addr === rng) {
        if (dev.radioOn()) return dev.rngWord();
        dev.rngReads++;
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
      const run = typeof fn === "function" ? () => fn(...args) : () => script(fn, "timer").runInContext(ctx);
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
      atob: native("toBytes", (s: string) => Buffer.from(String(s), "base64").toString("latin1"), (_r, s) => String(s).length),
      btoa: native("toBytes", (s: string) => latin1(s).toString("base64"), (r) => r.length),
      // jswrap_interactive.c: load() re-runs the boot code, reset() clears RAM without it.
      // src/jswrap_interactive.c: load() re-runs the saved state and boot code; reset() clears RAM and runs the boot
      // files but no saved state (JSIS_TODO_RESET → jsiSemiInit(false): jsfLoadBootCodeFromFlash(true) runs
      // .boot0…3 and .bootrst, never .bootcde or .varimg); reset(true) first erases the saved code.
      // load(file) (JSIS_TODO_FLASH_LOAD with a name): as reset(), the boot files without saved state, then that file.
      // A saved line that called them is not obeyed again while the image is replayed.
      load: (file?: string) => { if (!dev.restoring) dev.scheduleReboot(true, file === undefined ? true : { file: String(file) }); },
      reset: (clearFlash?: boolean) => {
        if (dev.restoring) return;
        if (clearFlash) dev.eraseSavedCode();
        dev.scheduleReboot(true, "reset");
      },
      // jswrap_interface_save: 2v29 refuses while .bootcde exists (the Web IDE's "save to flash"); else saves when idle.
      save: () => {
        if (dev.flash.files.has(".bootcde")) throw new Error("Cannot save: .bootcde file already exists. Please remove it first.");
        if (!dev.restoring) sched.afterCurrent(() => dev.saveImage());
      },
      echo: (on: boolean) => { for (const c of dev.consoles) c.setEcho(!!on); },
      console: { log: (...a: unknown[]) => dev.print(espruinoLog(a)) },
      print: (...a: unknown[]) => dev.print(espruinoLog(a)),
      require: (name: string) => {
        if (name === "Storage") return S;
        if (name === "Wifi") return W;
        if (name === "crypto" && fw.crypto !== false) return C;
        if (name === "http") return H;
        if (name === "dgram") return U;
        throw new Error(`Module ${name} not found`);
      },
      setTimeout: (fn: unknown, ms: number, ...args: unknown[]) => addTimer(fn, ms, false, args),
      setInterval: (fn: unknown, ms: number, ...args: unknown[]) => addTimer(fn, ms, true, args),
      clearTimeout: clearTimer("Timeout"),
      clearInterval: clearTimer("Interval"),
      // Within a JS item the clock advances by the device time charged so far (native work the model bills), so a
      // wait bounded by getTime() ends in the simulator as on the board (jshGetSystemTime is gettimeofday).
      getTime: () => (sched.deviceNow() - dev.resetAt) / 1000,
      // src/jswrap_io.c: pinMode is recorded, not needed (an unset pin reads high); setWatch as setPin models it.
      pinMode: () => undefined,
      digitalRead: (pin: number) => ((dev.pins.get(Number(pin)) ?? true) ? 1 : 0),
      setWatch: (fn: (e: object) => void, pin: number, o: { repeat?: boolean; edge?: string | number; debounce?: number } | boolean = {}) => {
        if (typeof fn !== "function") throw new Error("Function or String not supplied!");
        const opt = typeof o === "object" ? o : { repeat: !!o };
        const edge = opt.edge === "rising" || opt.edge === 1 ? 1 : opt.edge === "falling" || opt.edge === -1 ? -1 : 0;
        const id = (dev.watches.reduce((m, w) => Math.max(m, w.id), 0)) + 1, p = Number(pin);
        dev.watches.push({ id, pin: p, fn, repeat: !!opt.repeat, edge, debounce: Number(opt.debounce) || 0, state: dev.pins.get(p) ?? true, last: sched.now });
        return id;
      },
      clearWatch: (id?: number) => { dev.watches = id === undefined ? [] : dev.watches.filter((w) => w.id !== id); },
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
        bill("peek32", count! > 1 ? count! : 1);
        return read();
      },
      poke32: (addr: number, v: unknown) => {
        const write = () => {
          if (typeof v === "number") return pokeWord(addr, v);
          const a = v as ArrayLike<number>;
          if (rsa && rsa.writeWords(addr, a)) return;
          for (let i = 0; i < a.length; i++) pokeWord(addr + 4 * i, Number(a[i]));
        };
        bill("poke32", typeof v === "number" ? 1 : len(v));
        return write();
      },
      ...(fw.ble === false ? {} : { NRF: N }),
      E: {
        // jswrap_espruino.c jswrap_espruino_convolve: one multiply-add per element of the first array.
        convolve: native("convolve", convolve, (_s, a) => len(a)),
        // jswrap_espruino.c jswrap_espruino_mapInPlace: reads `bits`-bit fields of `from` (msb first; lsb first
        // when bits < 0; 0 means from's element size) as integers, maps each through a function, an array or
        // an ArrayBuffer view (undefined: straight through) and writes them to `to` until either runs out.
        // Priced per element written (a function as the map is a JS call on top, counted where it runs).
        mapInPlace: native("mapInPlace", (from: unknown, to: unknown, map: unknown, bits = 0) => {
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
        }, (_r, _from, to) => len(to)),
        hwRand: () => { dev.insecureRandomCalls++; return rand() | 0; },
        srand: () => { /* not modelled */ },
        toUint8Array: native("toBytes", (v: unknown) => { const b = bytes(v); const u = new realm.U8(b.length); u.set(b); return u; }, (r) => r.length),
        toString: native("toBytes", (v: unknown) => str(bytes(v)), (r) => r.length),
        internal: this.ble.internal,
        getErrorFlags: () => [],
        reboot: () => dev.scheduleReboot(),
        // jswrap_espruino.c E.CRC32: the standard CRC-32 (as zlib) of a string or array.
        CRC32: native("toBytes", (v: unknown) => zlib.crc32(bytes(v)), (_r, v) => len(v)),
        on: () => { /* E.on('init') is not used */ },
      },
      ESP32: {
        reboot: () => dev.scheduleReboot(),
        enableBLE: (on: boolean) => {
          dev.nvs.ble = !!on;
          // jswrap_esp32.c: ESP32_Set_NVS_Status, jsfRemoveCodeFromFlash() then esp_restart()
          dev.eraseSavedCode();
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
        // A garbage collection first (src/jswrap_process.c jswrap_process_memory): priced as one.
        memory: native("memory", () => ({ free: dev.board.jsvars, usage: 0, total: dev.board.jsvars, history: 0, gc: 0, gctime: 0, blocksize: 14 }), () => 0),
      },
    };
    Object.assign(ctx, g);
    // JSON and typed-array copies are built-ins too: priced per byte of JSON text, per element copied.
    vm.runInContext(`var global = this; JSON.stringify = __json; JSON.parse = __parse(JSON.parse); delete this.__json; delete this.__parse;
      Math.random = __rand; delete this.__rand; Math.pow = __pow; delete this.__pow;
      (function (T, copied) { var set = T.set, slice = T.slice;
        T.set = function (a, o) { copied(a.length); return set.call(this, a, o); };
        T.slice = function (a, b) { var r = slice.call(this, a, b); copied(r.length); return r; };
      })(Object.getPrototypeOf(Uint8Array.prototype), __copied); delete this.__copied;`, Object.assign(ctx, {
      __json: native("json", (v: unknown) => (v === undefined ? "null" : espruinoJSON(v)), (r) => r.length),
      __parse: (parse: (t: string, r?: unknown) => unknown) => native("json", (t: string, r?: unknown) => parse(t, r), (_r, t) => String(t).length),
      // Not the simulator's own copies inside a built-in (already priced as that built-in).
      __copied: (n: number) => { if (!inNative) bill("typedCopy", Number(n) || 0); },
      __rand: () => { dev.insecureRandomCalls++; return rand() / 0x80000000; },
      __pow: espruinoPow,
    }));
    // Every object is an event emitter (src/jswrap_object.c): on() keeps the listeners in a hidden "#on<event>"
    // property; emit() looks them up when called and queues them for the idle loop (jsiQueueEvents), so a
    // listener added after an emit does not get it; at most 4 arguments.
    vm.runInContext(`(function (queue) {
      var def = function (n, f) { Object.defineProperty(Object.prototype, n, { value: f, writable: true, configurable: true }); };
      def("on", function (ev, fn) {
        if (typeof fn !== "function" && typeof fn !== "string") throw new TypeError("Second argument must be a function or a String");
        var k = "#on" + ev, old = this[k];
        Object.defineProperty(this, k, { value: (old || []).concat([fn]), writable: true, configurable: true });
      });
      def("addListener", Object.prototype.on);
      def("emit", function (ev) {
        var a = [].slice.call(arguments, 1), l = this["#on" + ev];
        if (a.length > 4) throw new TypeError("Too many arguments (>4)");
        if (l) for (var i = 0; i < l.length; i++) queue(l[i], this, a);
      });
      def("removeAllListeners", function (ev) {
        if (ev === undefined) Object.getOwnPropertyNames(this).forEach(function (k) { if (/^#on/.test(k)) delete this[k]; }, this);
        else delete this["#on" + ev];
      });
    })`, ctx)((fn: (...a: unknown[]) => void, self: unknown, a: unknown[]) => sched.at(sched.now, true, () => fn.apply(self, a)));
    // Code made at run time counts its work as the rest: `new Function(args, body)` (Espruino keeps the text, lexed at
    // each call) and eval (global scope, as an indirect eval: the firmware has no direct one).
    const RealFunction = vm.runInContext("Function", ctx) as FunctionConstructor;
    const CountedFunction = function (...a: unknown[]) {
      const params = a.slice(0, -1).map(String).join(","), body = a.length ? String(a[a.length - 1]) : "";
      return new vm.Script(instrument(`(function anonymous(${params}\n) {\n${body}\n})`, { lexScript: false }), { filename: "Function" }).runInContext(ctx);
    };
    CountedFunction.prototype = RealFunction.prototype;
    ctx.Function = CountedFunction;
    // Code that is a Storage file's text (eval(require("Storage").read(f))) runs from flash.
    const inStorage = (code: string) => { for (const v of this.flash.files.values()) if (v.length === code.length && Buffer.from(v).toString("latin1") === code) return true; return false; };
    ctx.eval = (code: unknown) => (typeof code === "string" ? script(code, "eval", inStorage(code)).runInContext(ctx) : code);
    if (!this.nvs.ble) this.print("WARNING: Bluetooth is disabled per ESP32.enableBLE(false)");
    // src/jsflash.c jsfLoadBootCodeFromFlash, all in one go (jsiSoftInit): .boot0 … .boot3, then the boot code
    // (jsfGetBootCodeFromFlash: .bootrst if it exists or after reset()/load(file), else .bootcde). Each file is
    // read only when its turn comes, after the previous one ran, so code in .boot0 that writes .bootcde decides
    // what runs next; an error in one file is reported (jsiCheckErrors) and the next still runs.
    let ran = false;
    this.replLines = [];
    // A power-on restores the saved state first (src/jsinteractive.c jsiSemiInit → jsfLoadStateFromFlash).
    const img = bootCode === true ? this.flash.files.get(".varimg") : undefined;
    if (img) {
      ran = true;
      this.print(`Loading ${img.length} bytes from flash...`);
      const lines: string[] = JSON.parse(Buffer.from(img).toString("latin1")).simulatorReplLines;
      sched.at(sched.now, true, () => {
        this.restoring = true;
        try { for (const l of lines) { this.replLines.push(l); this.evaluate(l); } } finally { this.restoring = false; }
      });
    }
    const evalFile = (f: string, label = f) => {
      const code = this.flash.files.get(f);
      if (!code) return false;
      try {
        script(Buffer.from(code).toString("latin1"), label, true).runInContext(ctx);
      } catch (e) {
        if (e instanceof PowerCut) throw e;
        this.uncaught(e);
      }
      return true;
    };
    const reset = bootCode === "reset" || typeof bootCode === "object";
    // load(file) evaluates the file after the boot files (jsiIdle, JSIS_TODO_FLASH_LOAD).
    const loaded = typeof bootCode === "object" ? [bootCode.file] : [];
    if (bootCode && [".boot0", ".boot1", ".boot2", ".boot3", ".bootrst", ...(reset ? [] : [".bootcde"]), ...loaded].some((f) => this.flash.files.has(f))) {
      ran = true;
      sched.at(sched.now, true, () => {
        for (const f of [".boot0", ".boot1", ".boot2", ".boot3"]) evalFile(f);
        if (!evalFile(".bootrst", "boot code") && !reset) evalFile(".bootcde", "boot code");
        for (const f of loaded) evalFile(f);
      });
    }
    if (!ran) BANNER.forEach((l) => this.print(l.replace("2v29", this.version())));
    this.sched.step();
    for (const c of this.consoles) c.booted(soft);
  }

  /** ESP32.reboot()/E.reboot() (a CPU reset with the ROM's lines), or load()/reset() (soft, no ROM lines). */
  scheduleReboot(soft = false, bootCode: BootCode = true) {
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
