import * as v8 from "node:v8";

/**
 * Virtual time for the simulated board. Two kinds of work:
 * - "bt" work runs in the Bluetooth/Wi-Fi tasks at its own time, even while JS is busy (Bluedroid answers
 *   GATT reads from its own task: targets/esp32/BLE/esp32_gatts_func.c gatts_read_value_handler);
 * - "js" work (timers, queued onWrite/Wifi events) runs on the single interpreter, one item at a time,
 *   never before the previous item has finished.
 * A JS item costs `eventMs + hostMs × slowdown` of device time: the interpreter executes source text and
 * an ESP32 is far slower than this host (see DEFAULT_SLOWDOWN), so a race lost on the board is lost here.
 */

/**
 * Derivation: tweetnacl's X25519 takes 21 ms under `node --jitless` and 1.75 s in Espruino built for x86
 * (docs/interpreter-measurements.md §6, 83×), and an ESP32 runs Espruino ≥37× slower than that x86 host
 * (same file) → ~3000× an interpreting host. The simulator measures JIT-compiled Node time, so hot numeric
 * loops (crypto) come out OPTIMISTIC by several times; ordinary handler code is roughly right.
 */
export const DEFAULT_SLOWDOWN = 3000;
/**
 * Device time charged per E.convolve call, which stands for the X25519 work around it. `npm run bench`
 * (callgrind, Espruino 2v29 built for 32-bit Linux with 14-byte JsVars): one X25519 = 2.64 G instructions
 * and 39,660 E.convolve calls → 67 k instructions per call (the E.mapInPlace gathers and the rest of the
 * field code included); at 1–2.6 cycles per x86 instruction on a 240 MHz ESP32 (issue 6's assumption)
 * that is 0.28–0.72 ms; the geometric middle is used.
 */
export const CONVOLVE_CALL_MS = 0.45;
/**
 * The same for the compact field code (loopOps, CONFIG_PROV_X25519_CODE): as many E.convolve calls, but the loop
 * control and array look-ups around them make one X25519 1.75× the instructions of generatedOps (`npm run
 * bench`, one run: 6.52 G against 3.73 G), so each call stands for 1.75× the device time.
 */
export const CONVOLVE_CALL_LOOPS_MS = CONVOLVE_CALL_MS * 1.75;
/**
 * Host time as billed to the simulated interpreter: this process's CPU time (user + system), not wall time.
 * Wall time also counts the time the process waited for a core, so on a busy host (a shared 2-core machine
 * running other test suites) a handler's few milliseconds became tens, and × the slow-down exceeded the
 * client's 30 s ATT limit at the very first exchange. On an idle host both clocks agree, so the calibration
 * (DEFAULT_SLOWDOWN, CONVOLVE_CALL_MS) stands. process.cpuUsage also counts V8's helper threads, so a JS item
 * is billed the smaller of this and its wall time, less its garbage collections (Scheduler.step).
 */
export function hostCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Milliseconds of garbage collection since `p.start()` (v8.GCProfiler statistics: cost in microseconds). */
function gcMs(p: v8.GCProfiler): number {
  let us = 0;
  for (const g of p.stop()?.statistics || []) us += g.cost;
  return us / 1000;
}

/**
 * Device time charged per RSA accelerator operation started (MULT_START/MODEXP_START), which stands for the
 * accelerated X25519's interpreter work around it (test-host/sim/device.ts). From `npm run bench`
 * (callgrind, same interpreter, peripheral stood in by RAM): instructions per X25519 / operations per
 * X25519, at the same 1–2.6 cycles per instruction (geometric middle) as CONVOLVE_CALL_MS.
 */
// 0.999 G / 4,331 operations = 231 k instructions each × 1.61 cycles / 240 MHz (stand-in calls included) was 1.55 ms;
// issue 23's driver (ownership check per operation, uniform ladder step) costs 1.16× per operation without the
// stand-in's calls (108 k against 93 k instructions, both measured in one 2v29 i386 build), so 1.55 × 1.16.
export const MPI_OP_MS = 1.8;
/** Host idle time (wall ms) after which the core is woken up before the next JS item is timed, and for how long. */
const WAKE_AFTER_IDLE_MS = 5, WAKE_SPIN_MS = 2;
/** Fixed cost of dispatching one queued event to JS (idle loop, event unpacking, function call). */
export const DEFAULT_EVENT_MS = 15;

interface Item { t: number; seq: number; js: boolean; fn: () => void; id: number; dead?: boolean; io?: boolean }

/**
 * Which of two items starting at the same moment goes first: console input and prompt returns (jsiIdle
 * handles IO before timers), then the earliest due, then the earliest scheduled (Espruino's timer list order).
 */
function before(a: Item, b: Item): boolean {
  if (!!a.io !== !!b.io) return !!a.io;
  return a.t !== b.t ? a.t < b.t : a.seq < b.seq;
}

export class Scheduler {
  now = 0;
  busyUntil = 0;
  /** Host milliseconds spent running firmware JS so far (the bench's session cost). */
  jsHostMs = 0;
  /** Counts JS items run, so a model can tell whether two of its calls fall in the same one. */
  item = 0;
  private charged = 0;
  private excludedHostMs = 0;
  /** Host CPU time at which the running JS item started. */
  itemHostStart = 0;
  /** Adds `deviceMs` to the running JS item's cost and removes `hostMs` of it from the host-time share. */
  charge(deviceMs: number, hostMs: number) { this.charged += deviceMs; this.excludedHostMs += hostMs; }
  private items: Item[] = [];
  private seq = 0;
  private ids = 0;
  jsErrors: unknown[] = [];
  onJsError: (e: unknown) => void = (e) => this.jsErrors.push(e);
  constructor(public slowdown = DEFAULT_SLOWDOWN, public eventMs = DEFAULT_EVENT_MS) {}

  /** Schedules work at absolute device time t. */
  at(t: number, js: boolean, fn: () => void, io = false): number {
    const id = ++this.ids;
    this.items.push({ t, seq: this.seq++, js, fn, id, io });
    return id;
  }
  cancel(id: number) {
    for (const i of this.items) if (i.id === id) i.dead = true;
  }
  clear() {
    this.items = [];
    this.busyUntil = this.now;
  }
  private next(): Item | undefined {
    let best: Item | undefined, bestT = Infinity;
    this.items = this.items.filter((i) => !i.dead);
    for (const i of this.items) {
      const t = i.js ? Math.max(i.t, this.busyUntil) : i.t;
      if (t < bestT || (t === bestT && best && before(i, best))) { best = i; bestT = t; }
    }
    return best;
  }
  /** Runs one item if any is due by `limit`; returns false when nothing ran. */
  step(limit = Infinity): boolean {
    const it = this.next();
    if (!it) return false;
    const t = it.js ? Math.max(it.t, this.busyUntil) : it.t;
    if (t > limit) return false;
    this.items.splice(this.items.indexOf(it), 1);
    this.now = Math.max(this.now, t);
    if (!it.js) { it.fn(); return true; }
    this.charged = this.excludedHostMs = 0;
    this.item++;
    // With no slow-down host time bills nothing and the host clock (a system call) is not read: jsHostMs
    // (the bench's figure, taken at the default slow-down) stays 0 then.
    const timed = this.slowdown > 0;
    // A host core that has been idle (the real-time simulator sleeps between events) runs its first
    // milliseconds of work several times slower (measured: the first HTTP request's handler 5–6 ms of CPU after
    // a sleep, 0.15–0.4 ms otherwise), which × the slow-down became a 408 body timeout the board would not have.
    // Waking the core up before the clock starts keeps that host artefact out of the bill.
    if (timed && performance.now() - this.lastItemEnd > WAKE_AFTER_IDLE_MS) {
      const until = performance.now() + WAKE_SPIN_MS;
      while (performance.now() < until) { /* warm the core, unbilled */ }
    }
    // The host's garbage collections are not the board's work: they collect the simulator's own garbage too (the
    // RSA model's BigInts, the scheduler's lists) and land on whichever item allocates when the young generation fills
    // (measured: 0.3–1 ms scavenges, a whole 5 s body timeout × the slow-down). They are not billed.
    const gc = timed ? new v8.GCProfiler() : undefined;
    gc?.start();
    const w0 = timed ? performance.now() : 0;
    const h0 = (this.itemHostStart = timed ? hostCpuMs() : 0);
    this.inJs = true;
    this.jsStartedAt = this.now;
    try { it.fn(); } catch (e) { this.onJsError(e); } finally { this.inJs = false; }
    // The interpreter is one thread: the item's own work is at most its CPU time (which excludes waiting for a core)
    // and at most its wall time (which excludes V8's helper threads: concurrent marking, background compiling).
    const hostMs = timed ? Math.max(0, Math.min(hostCpuMs() - h0, performance.now() - w0) - this.excludedHostMs - gcMs(gc!)) : 0;
    if (timed) this.lastItemEnd = performance.now();
    this.jsHostMs += hostMs;
    this.busyUntil = this.now + this.eventMs + hostMs * this.slowdown + this.charged * (this.slowdown / DEFAULT_SLOWDOWN);
    const fx = this.effects;
    this.effects = [];
    for (const e of fx) this.at(this.busyUntil, false, e.fn, e.io);
    return true;
  }
  /** Advances virtual time to t, running everything due. */
  runUntil(t: number) {
    while (this.step(t)) { /* run */ }
    this.now = Math.max(this.now, t);
  }
  /** Runs until cond() holds or the time limit passes; returns cond(). */
  runWhile(cond: () => boolean, maxMs: number): boolean {
    const end = this.now + maxMs;
    while (!cond()) {
      if (!this.step(end)) { this.now = Math.max(this.now, end); return cond(); }
    }
    return true;
  }
  private inJs = false;
  /**
   * Device time as a JS item sees it: its start plus what it has been charged so far for modelled native work
   * (deterministic; the host-time share is only known at its end). Between items, `now`.
   */
  deviceNow(): number {
    return this.inJs ? this.jsStartedAt + this.charged * (this.slowdown / DEFAULT_SLOWDOWN) : this.now;
  }
  /** Host wall-clock time (performance.now) when the last JS item ended. */
  private lastItemEnd = 0;
  /** Start time of the JS item running now (or last run). */
  jsStartedAt = 0;
  private effects: { fn: () => void; io: boolean }[] = [];
  /**
   * An effect of JS code that other tasks can observe (a GATT value, a link drop): it becomes visible
   * when the running JS item has finished, i.e. after its device-time cost.
   */
  effect(fn: () => void) {
    if (this.inJs) this.effects.push({ fn, io: false });
    else fn();
  }
  /** Runs fn once the running JS item has finished, or on the next step when no JS is running. */
  afterCurrent(fn: () => void) {
    if (this.inJs) this.effects.push({ fn, io: true });
    else this.at(this.now, false, fn, true);
  }
  pending(): number {
    return this.items.filter((i) => !i.dead).length;
  }
}
