/**
 * The simulated board's serial console: Espruino's REPL as src/jsinteractive.c implements it, so the
 * official `espruino` CLI and a terminal behave as they do on the UART.
 *
 * Modelled (jsinteractive.c, 2v29):
 * - characters are echoed as typed; Enter (`\r`, `\n`, or `\r\n` counted once) executes the line once its
 *   brackets balance (jsiCountBracketsInInput), otherwise appends a newline and shows the `:` prompt;
 *   ESC + LF ("Alt-Enter", which the CLI sends inside multi-line statements) adds a newline without executing;
 * - a line starting with DLE (0x10) runs without echo and without printing its result (JSIS_ECHO_OFF_FOR_LINE);
 * - the result of an echoed, non-empty line is printed as `=value` (jsfPrintJSON);
 * - output while the prompt shows first removes the input line (`\r` + ESC[J, jsiConsoleRemoveInputLine) and
 *   the prompt comes back after it (`>` + the pending input, jsiConsoleReturnInputLine);
 * - Ctrl-C (0x03) clears a non-empty input line (jsiLoop); Ctrl-E on an empty line prints the version;
 *   backspace/DEL deletes; cursor keys are swallowed.
 * Not modelled: interrupting running code with Ctrl-C (the simulator runs a line to completion), history,
 * tab completion, the packet-transfer protocol (DLE SOH; the CLI only uses it when PACKET_UPLOAD is set).
 */
import type { SimDevice } from "./device";
import { espruinoJSON } from "./format";

export class SimConsole {
  private line = "";
  private removed = true; // the prompt is not on screen
  private echoOffForLine = false;
  private echoOn = true;
  private state: "none" | "dle" | "esc" | "csi" | "r" = "none";
  private returnQueued = false;
  private queue: { code: string; echo: boolean }[] = [];
  private busy = false;
  private running: { code: string; echo: boolean } | undefined;

  constructor(private dev: SimDevice, private write: (raw: string) => void) {
    dev.consoles.push(this);
  }

  detach() {
    this.dev.consoles = this.dev.consoles.filter((c) => c !== this);
  }

  private echo() { return this.echoOn && (this.running ? this.running.echo : !this.echoOffForLine); }
  private raw(text: string) { this.write(text.replace(/\r?\n/g, "\r\n")); }

  setEcho(on: boolean) { this.echoOn = on; }

  /** Device output (print/console.log/log lines): removes the input line first, returns it afterwards. */
  output(text: string) {
    this.removeInputLine();
    this.raw(text);
    this.queueReturn();
  }

  /** A reset: fresh input line; the prompt follows the boot output. reset()/load() keep queued input. */
  booted(soft: boolean) {
    this.busy = false;
    this.running = undefined;
    if (!soft) this.queue = [];
    this.pump();
    this.line = "";
    this.echoOffForLine = false;
    this.echoOn = true;
    this.returnQueued = false; // the reset dropped any pending return
    this.queueReturn();
  }

  private removeInputLine() {
    if (this.removed) return;
    this.removed = true;
    if (this.echo()) this.raw("\r\x1b[J");
  }

  private returnInputLine() {
    if (!this.removed) return;
    this.removed = false;
    if (this.echo()) this.raw(">" + this.line.replace(/\n/g, "\n:"));
  }

  /** Espruino returns the prompt on its next idle loop: when the running JS event has finished. */
  private queueReturn() {
    if (this.returnQueued) return;
    this.returnQueued = true;
    this.dev.sched.afterCurrent(() => { this.returnQueued = false; this.returnInputLine(); });
  }

  /** Bytes from the terminal / CLI. */
  input(data: string) {
    for (const ch of data) this.char(ch);
  }

  private char(ch: string) {
    const c = ch.charCodeAt(0), st = this.state;
    if (st === "dle") this.state = "none"; // DLE only matters before SOH (packet transfer, not modelled)
    if (st === "esc") {
      this.state = c === 91 ? "csi" : "none";
      if (c === 10) this.newLine(false);
      return;
    }
    if (st === "csi") {
      if (c >= 64) this.state = "none"; // end of a cursor-key sequence: ignored
      return;
    }
    if (c === 3) { // Ctrl-C: jsiLoop clears a non-empty line
      if (this.line) { this.removeInputLine(); this.line = ""; this.queueReturn(); }
      return;
    }
    if (c === 5) { if (!this.line) this.output(`Espruino ${this.dev.version()} ESP32\n`); return; }
    if (c === 16) { if (!this.line) this.echoOffForLine = true; this.state = "dle"; return; }
    if (c === 27) { this.state = "esc"; return; }
    if (c === 8 || c === 127) {
      if (this.line && !this.line.endsWith("\n")) {
        this.line = this.line.slice(0, -1);
        if (this.echo() && !this.removed) this.raw("\x08 \x08");
      }
      return;
    }
    if (c === 10 && st === "r") { this.state = "none"; return; }
    if (c === 13 || c === 10) {
      if (c === 13) this.state = "r";
      this.newLine(true);
      return;
    }
    if (c >= 32 || c === 9) {
      const s = c === 9 ? "    " : ch;
      this.line += s;
      if (this.echo() && !this.removed) this.raw(s);
    }
  }

  private newLine(execute: boolean) {
    if (!execute || brackets(this.line) > 0) {
      if (this.echo() && !this.removed) this.raw("\n:");
      this.line += "\n";
      return;
    }
    const code = this.line.trimEnd(), echo = this.echo();
    if (echo && !this.removed) this.raw("\n");
    if (echo) this.removed = true;
    this.line = "";
    this.echoOffForLine = false;
    this.queue.push({ code, echo });
    this.pump();
    this.dev.run(0); // Espruino executes the line as soon as Enter arrives (if it is idle)
  }

  /**
   * Runs queued lines one JS event at a time. A line leaves the queue only when it starts, so lines still
   * waiting survive reset() (the UART keeps them); a hard reboot drops them.
   */
  private pump() {
    if (this.busy || !this.queue.length) return;
    this.busy = true;
    this.dev.sched.at(this.dev.sched.now, true, () => {
      const job = this.queue.shift()!;
      this.running = job;
      let v: unknown, failed = false;
      try {
        v = this.dev.evaluate(job.code);
      } catch (e) {
        failed = true;
        const err = e as Error;
        this.dev.print("Uncaught " + (err && err.message !== undefined ? (err.name || "Error") + ": " + err.message : espruinoJSON(e)));
      }
      if (job.echo && !failed && job.code) this.output("=" + replValue(v) + "\n");
      this.running = undefined;
      this.busy = false;
      this.queueReturn();
      this.pump();
    }, true);
  }
}

/** jsiCountBracketsInInput: open ( [ { outside strings and comments. */
export function brackets(s: string): number {
  let n = 0, q = "", i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (q) {
      if (ch === "\\") i++;
      else if (ch === q) q = "";
    } else if (ch === "/" && s[i + 1] === "/") {
      while (i < s.length && s[i] !== "\n") i++;
    } else if (ch === "/" && s[i + 1] === "*") {
      const e = s.indexOf("*/", i + 2);
      if (e < 0) return n + 1; // an open comment keeps the line open
      i = e + 1;
    } else if (ch === '"' || ch === "'" || ch === "`") q = ch;
    else if ("([{".includes(ch)) n++;
    else if (")]}".includes(ch)) n--;
    i++;
  }
  return n;
}

/** jsfPrintJSON with JSON_DROP_QUOTES | JSON_PRETTY, enough for the REPL's `=value` line. */
function replValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "function") return "function () { [native code] }";
  if (typeof v === "string") return JSON.stringify(v);
  if (v && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
    const keys = Object.keys(v as object);
    if (!keys.length) return "{ }";
    return "{\n" + keys.map((k) => "  " + (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)) + ": " + espruinoJSON((v as Record<string, unknown>)[k])).join(",\n") + "\n }";
  }
  return espruinoJSON(v);
}
