/**
 * The interpreter's side of the differential check: the SoftAP bundle evaluated from (emulated flash) Storage in
 * Espruino's Linux build, as `npm run bench` runs it, with its own `require("http")` (libs/network/http/
 * jswrap_http.c over libs/network/socketserver.c, the code the ESP32 build runs; chunks of 536 bytes there too,
 * libs/network/linux/network_linux.c) serving a real TCP port; clients connect over loopback. Only Wifi, NRF,
 * ESP32, the RNG and RSA-block registers stand in (test-host/bench-shims.js); the server's port is the one change
 * to `http`: the firmware listens on 80, the stand-in passes a free port instead (80 may be taken on the host).
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { PAGE_FILE } from "../../src/transport/web-portal";
import { freePort } from "../bench-portal";
import { Wire, WireConn } from "./plan";
import { testPage } from "./sim-wire";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** A bundle as the Linux build can run it: peek32/poke32/getSerial renamed to the stand-ins' (as bench.ts does). */
export function linuxBundle(code: string): string {
  return code.replace(/\bpeek32\b/g, "__peek32").replace(/\bpoke32\b/g, "__poke32").replace(/\bgetSerial\(/g, "__getSerial(");
}

export interface EspruinoBoard {
  wire: Wire;
  /** Starts sampling process.memory().usage every millisecond (as the bench does). */
  peakStart(): void;
  /** Stops sampling: the peak in JsVars as the bench counts it (an empty interpreter's + what the firmware added). */
  peakStop(): Promise<number>;
  /** Everything the interpreter printed. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the interpreter on the bundle; resolves once its device key pair is ready (Security 1) or its AP is up. */
export async function espruinoBoard(espruino: string, bundleFile: string, secVer: 0 | 1): Promise<EspruinoBoard> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "differential-"));
  const port = await freePort();
  // stdin: a FIFO held open (the Linux build's console reads it; see bench.ts), also the way to type at its REPL.
  const fifo = path.join(dir, "stdin");
  execFileSync("mkfifo", [fifo]);
  const stdin = fs.openSync(fifo, "r+");
  // An empty interpreter's JsVars (the bench's base figure), and whether this build has the http module at all.
  const probe = execFileSync(espruino, ["-e", "print('U '+process.memory().usage);try{require('http');print('HTTP')}catch(e){}"],
    { cwd: dir, stdio: [stdin, "pipe", "ignore"], encoding: "latin1", timeout: 30000 });
  if (!/^HTTP/m.test(probe)) { fs.closeSync(stdin); fs.rmSync(dir, { recursive: true, force: true }); throw new Error(`${espruino} has no http module: use an Espruino Linux build with it (docs/differential.md)`); }
  const empty = Number(/U (\d+)/.exec(probe)?.[1]);
  const shims = fs.readFileSync(path.join(ROOT, "test-host/bench-shims.js"), "utf8");
  const code = linuxBundle(fs.readFileSync(bundleFile, "latin1"));
  const script = `var __BLE=false,__HTTP_PORT=${port};\n` + shims +
    "\nvar __pk=0,__iv;function __pkOn(){__pk=0;__iv=setInterval(function(){var u=process.memory().usage;if(u>__pk)__pk=u;},1);}" +
    "function __pkOff(){clearInterval(__iv);print('PEAK '+__pk);}" +
    // A blank Storage, the page file, the bundle as .bench; evaluated at root scope from a timer, as the board runs
    // its boot code (src/jsflash.c jsfLoadBootCodeFromFlash; see bench.ts).
    `\nvar S=require('Storage');S.eraseAll();S.write(${JSON.stringify(PAGE_FILE)},atob(${JSON.stringify(testPage().toString("base64"))}));` +
    "S.write('.bench'," + JSON.stringify(code) + ");\n" +
    "setTimeout(function(){print('BASE '+process.memory().usage);setTimeout(eval,0,S.read('.bench'));},10);";
  const p: ChildProcess = spawn(espruino, ["-e", script], { cwd: dir, stdio: [stdin, "pipe", "pipe"] });
  let out = "", exited: number | null | undefined;
  p.stdout!.on("data", (b: Buffer) => { out += b.toString("latin1"); });
  p.stderr!.on("data", (b: Buffer) => { out += b.toString("latin1"); });
  const gone = new Promise<void>((resolve) => p.on("close", (rc) => { exited = rc; resolve(); }));
  const ready = secVer ? /Device key pair ready/ : /SoftAP started/;
  const t0 = Date.now();
  while (!ready.test(out)) {
    if (exited !== undefined) throw new Error(`the interpreter exited (${exited}) before the firmware was ready: ${out.slice(-300)}`);
    if (Date.now() - t0 > 120000) { p.kill(); throw new Error(`the firmware did not get ready in the interpreter within 120 s: ${out.slice(-300)}`); }
    await delay(50);
  }
  await delay(1000);
  const type = (line: string) => fs.writeSync(stdin, line + "\n");
  return {
    wire: tcpWire(port),
    peakStart: () => type("__pkOn()"),
    async peakStop() {
      const from = out.length;
      type("__pkOff()");
      const t = Date.now();
      let m: RegExpExecArray | null = null;
      while (!(m = /PEAK (\d+)/.exec(out.slice(from))) && Date.now() - t < 10000) await delay(20);
      const base = /BASE (\d+)/.exec(out);
      return m && base ? Number(m[1]) - Number(base[1]) + empty : NaN;
    },
    output: () => out,
    async stop() {
      if (exited === undefined) { type("quit()"); await Promise.race([gone, delay(3000)]); }
      if (exited === undefined) { p.kill(); await gone; }
      fs.closeSync(stdin);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Clients over loopback TCP, one segment per write (no Nagle), wall-clock time. */
export function tcpWire(port: number): Wire {
  return {
    open(): WireConn {
      const chunks: Buffer[] = [];
      let refused: string | undefined, closed = false;
      const s = net.connect(port, "127.0.0.1");
      s.setNoDelay(true);
      s.on("data", (b) => chunks.push(b));
      s.on("end", () => { closed = true; });
      s.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "ECONNREFUSED") refused = e.code; else closed = true; });
      return {
        refused: () => refused,
        write: (b) => { s.write(b); },
        end: () => { s.end(); },
        received: () => Buffer.concat(chunks),
        closedByBoard: () => closed,
      };
    },
    sleep: delay,
    async until(cond, ms) {
      const t = Date.now();
      while (!cond() && Date.now() - t < ms) await delay(10);
      return cond();
    },
  };
}
