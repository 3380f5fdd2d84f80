
import type { Counters } from "./cost";
import { COST, instructions } from "./cost-table";

/**
 * Virtual time for the simulated board. Two kinds of work:
 * - "bt" work runs in the Bluetooth/Wi-Fi tasks at its own time, even while JS is busy (Bluedroid answers
 *   GATT reads from its own task: targets/esp32/BLE/esp32_gatts_func.c gatts_read_value_handler);
 * - "js" work (timers, queued onWrite/Wifi events) runs on the single interpreter, one item at a time,
 *   never before the previous item has finished.
 * A JS item costs `eventMs` plus the interpreter instructions it executed (test-host/sim/cost.ts counts them as
 * the code runs, test-host/sim/cost-table.ts prices them) × `slowdown` cycles each / the board's clock. Nothing
 * of the host enters the device's timeline: the same inputs give the same times on any machine under any load.
 */

/**
 * Board cycles per interpreter instruction (`--slowdown`), an instruction being one of the x86 instructions
 * callgrind counts in Espruino's Linux build (the cost table's unit). 1.6 is the geometric middle of 1 and 2.6,
 * the range issue 6 assumed for an Xtensa LX6 running the same C (1–1.3 of its instructions per x86 one, 1–2
 * cycles each); 0 stops the device clock inside JS (every item costs only `eventMs`).
 */
export const DEFAULT_SLOWDOWN = 1.6;
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
  /** Interpreter instructions of all JS items so far (the model's, test-host/sim/cost-table.ts). */
  jsInstructions = 0;
  /** Counts JS items run, so a model can tell whether two of its calls fall in the same one. */
  item = 0;
  /** The interpreter's work counters (test-host/sim/cost.ts); the device points this at its context's. */
  counters: Counters = { l: 0, x: 0, c: 0, f: 0, i: 0, S: 0, n: 0, L: 0, X: 0, T: 0 };
  /** Device ms of modelled hardware waits in the running JS item (not interpreter work). */
  private charged = 0;
  /** Instructions counted when the running JS item started. */
  private workAtStart = 0;
  /** Adds `deviceMs` of hardware time (at the default slow-down; scaled as the rest) to the running JS item. */
  charge(deviceMs: number) { this.charged += deviceMs; }
  private items: Item[] = [];
  private seq = 0;
  private ids = 0;
  jsErrors: unknown[] = [];
  onJsError: (e: unknown) => void = (e) => this.jsErrors.push(e);
  /** cpuMhz: the board's clock (boards/*.json cpuMhz). */
  constructor(public slowdown: number, public eventMs: number, public cpuMhz: number) {}
  /** Interpreter instructions counted so far. */
  work(): number { return instructions(this.counters, COST); }
  /** Device ms of `n` interpreter instructions on this board at this slow-down. */
  ms(n: number): number { return (n * this.slowdown) / (this.cpuMhz * 1000); }
  /** Device ms of the running item so far: its instructions and its hardware waits. */
  private itemMs(): number {
    return this.ms(this.work() - this.workAtStart) + this.charged * (this.slowdown / DEFAULT_SLOWDOWN);
  }

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
    this.charged = 0;
    this.item++;
    this.workAtStart = this.work();
    this.inJs = true;
    this.jsStartedAt = this.now;
    try { it.fn(); } catch (e) { this.onJsError(e); } finally { this.inJs = false; }
    this.jsInstructions += this.work() - this.workAtStart;
    this.busyUntil = this.now + this.eventMs + this.itemMs();
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
  /** Device time as a JS item sees it (getTime): its start plus the work it has done so far. Between items, `now`. */
  deviceNow(): number {
    return this.inJs ? this.jsStartedAt + this.itemMs() : this.now;
  }
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
