/**
 * The cost model's calibration (test-host/sim/cost-table.ts), shared by `npm run bench` (which measures and derives)
 * and cost-table.test.ts (which re-derives the committed table from the measurements it records).
 *
 * Method: every calibration script runs twice, once in the real interpreter under callgrind (instructions, an empty
 * run subtracted) and once in the simulator's model (its counters: tokens lexed and executed, calls, and each
 * built-in's calls and units). The token coefficients are the least-squares fit of the pure-JS scripts; each built-in's
 * per-unit cost is the difference of its two sizes, its per-call cost what is left of the larger script once the
 * token model and the units are taken off (never below 0).
 */
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { execFileSync, spawn } from "node:child_process";
import { SimDevice, DEFAULT_BOARD } from "./sim/device";
import { instrument, Counters } from "./sim/cost";
import { CostTable, Native, instructions } from "./sim/cost-table";

const LOOP = (n: number, body: string) => `function t(){for(var i=0;i<${n};i++){${body}}}t();`;
const fill = (n: number) => `var d="";for(var j=0;j<${n};j++)d+=String.fromCharCode(65+j%26);`;

/** Pure JS: different mixes of tokens lexed, executed and calls. */
export const TOKEN_SCRIPTS: Record<string, string> = {
  stmt: "var a=0,b,c;" + LOOP(2000, "a=a+1;b=a*2;c=b-a;"),
  expr: "var a=0,b=3,c=5;" + LOOP(2000, "a=(a+i*3-(b|0)+(c>>1))&1023;"),
  skip: "var a=0,b,c;" + LOOP(2000, "if(i<0){a=a+1;b=a*2;c=b-a;a=a+1;b=a*2;c=b-a;a=a+1;b=a*2;c=b-a;a=a+1;b=a*2;c=b-a;}"),
  call: "var a=0;function f(x,y){}" + LOOP(2000, "f(i,a);"),
  ret: "var a=0,b,c;function g(x){if(x>=0)return 1;a=a+1;b=a*2;c=b-a;a=a+1;b=a*2;c=b-a;}" + LOOP(2000, "g(i);"),
  prop: "var o={p:1,q:2};" + LOOP(2000, "o.p=o.q+1;o.q=o.p&255;"),
  typed: "var u=new Uint8Array(16);" + LOOP(2000, "u[i&15]=u[(i+1)&15]+1;"),
  closure: "var a=0;function mk(k){return function(x){return x+k;};}" + LOOP(1000, "a=mk(i)(a)&255;"),
  define: "var g;" + LOOP(2000, "g=function(a,b){return a+b;};"),
  strings: "var s;" + LOOP(1000, `s="${"abcdefghij".repeat(20)}";`),
  loop: LOOP(4000, ""),
  nested: "var a=0;" + LOOP(200, "for(var j=0;j<10;j++){a=a+j;}"),
};

/**
 * A built-in at two sizes: `setup(size)` and the loop body (K calls). `node` overrides globals in the model's run
 * where the Linux build and the simulated board differ (peek32/poke32 address real memory on Linux).
 */
interface NativeBench { kind: Native; k: number; sizes: [number, number]; setup(s: number): string; body: string; linuxSetup?: (s: number) => string }
export const NATIVE_SCRIPTS: NativeBench[] = [
  { kind: "convolve", k: 600, sizes: [8, 32], setup: (s) => `var a=new Float64Array(${s}),b=new Float64Array(${s}),x;`, body: "x=E.convolve(a,b,1);" },
  { kind: "mapInPlace", k: 400, sizes: [8, 32], setup: (s) => `var f=new Uint8Array(${s}),o=new Float64Array(${s}),m=new Float64Array(256);`, body: "E.mapInPlace(f,o,m);" },
  { kind: "poke32", k: 600, sizes: [4, 16], setup: (s) => `var R=new Uint32Array(64),A=0x3FF02000,w=new Uint32Array(${s});`, linuxSetup: (s) => `var R=new Uint32Array(64),A=E.getAddressOf(R,true),w=new Uint32Array(${s});`, body: "poke32(A,w);" },
  { kind: "storageWrite", k: 40, sizes: [64, 512], setup: (s) => `var S=require("Storage");${fill(s)}`, body: "S.write('f'+i,d);" },
  { kind: "storageRead", k: 200, sizes: [64, 1024], setup: (s) => `var S=require("Storage"),x;${fill(s)}S.write('f',d);`, body: "x=S.read('f');" },
  { kind: "json", k: 200, sizes: [4, 64], setup: (s) => `var v=[],x,y;for(var j=0;j<${s};j++)v.push(j*7);`, body: "x=JSON.stringify(v);y=JSON.parse(x);" },
  { kind: "sha256", k: 200, sizes: [32, 512], setup: (s) => `var c=require("crypto"),x;${fill(s)}`, body: "x=c.SHA256(d);" },
  { kind: "aes", k: 200, sizes: [16, 256], setup: (s) => `var c=require("crypto"),k=new Uint8Array(32),x;${fill(s)}`, body: "x=c.AES.encrypt(d,k,{mode:'ECB'});" },
  { kind: "toBytes", k: 300, sizes: [16, 256], setup: (s) => `var x,y;${fill(s)}`, body: "x=E.toUint8Array(d);y=E.toString(x);" },
  { kind: "memory", k: 10, sizes: [1, 2], setup: () => "var x;", body: "x=process.memory();" },
  { kind: "typedCopy", k: 300, sizes: [16, 256], setup: (s) => `var u=new Uint8Array(${s}),v=new Uint8Array(${s}),x;`, body: "u.set(v);x=v.slice(0);" },
];

/** A script stored in Storage and evaluated from there at root scope, as the bench's sessions run the bundle. */
const fromFlash = (src: string) => `var S=require('Storage');S.write('c',${JSON.stringify(src)});setTimeout(eval,0,S.read('c'));`;

/** Every calibration script by name, as the real interpreter runs it. */
export function calibrationScripts(side: "linux" | "model"): Record<string, string> {
  const out: Record<string, string> = { ...TOKEN_SCRIPTS };
  for (const [n, src] of Object.entries(TOKEN_SCRIPTS)) out["flash-" + n] = fromFlash(src);
  for (const n of NATIVE_SCRIPTS) for (const s of n.sizes) out[`${n.kind}-${s}`] = ((side === "linux" && n.linuxSetup) || n.setup)(s) + LOOP(n.k, n.body);
  return out;
}

/** What the model counted for one script: its counters and each built-in's calls and units. */
export interface ModelCount { k: Counters; natives: Partial<Record<Native, { calls: number; units: number }>>; out: string[]; items: number }

/**
 * Runs a script as the Linux interpreter's `-e` would (global scope, then its timers until none is left or it
 * calls quit()), in the simulator's model; `extra` adds Linux-build globals it needs.
 */
export function modelRun(src: string, extra: (d: SimDevice) => Record<string, unknown> = () => ({}), maxMs = 3_600_000): ModelCount {
  const d = new SimDevice({ board: DEFAULT_BOARD });
  d.boot(false);
  const log0 = d.log.length;
  let quit = false;
  const cached: Record<string, string> = {}, loaded: Record<string, unknown> = {}, req = d.ctx.require as (n: string) => unknown;
  Object.assign(d.ctx, {
    // Espruino's module cache: the code runs at the first require, as a function of exports and module.
    Modules: { addCached: (n: string, code: string) => { cached[n] = code; } },
    require: (n: string) => {
      if (!(n in cached)) return req(n);
      if (!(n in loaded)) {
        const m = { exports: {} };
        new vm.Script(instrument(`(function(exports,module){${cached[n]}\n})`)).runInContext(d.ctx)(m.exports, m);
        loaded[n] = m.exports;
      }
      return loaded[n];
    },
    quit: () => { quit = true; d.sched.clear(); },
  }, extra(d));
  d.flash.files.clear();
  const k = d.sched.counters;
  Object.assign(k, { l: 0, x: 0, c: 0, f: 0, i: 0, S: 0, n: 0, L: 0, X: 0, T: 0 });
  d.nativeTally = {};
  const items0 = d.sched.item;
  d.evaluate(src);
  const end = d.sched.now + maxMs;
  while (!quit && d.sched.step(end)) { /* the interpreter's idle loop */ }
  return { k: { ...k }, natives: d.nativeTally, out: d.log.slice(log0).map((l) => l.line), items: d.sched.item - items0 };
}

/** Least squares for a few unknowns (normal equations, Gaussian elimination). */
export function leastSquares(rows: number[][], ys: number[]): number[] {
  const n = rows[0]!.length, a = Array.from({ length: n }, () => new Array(n + 1).fill(0));
  rows.forEach((r, i) => { for (let p = 0; p < n; p++) { for (let q = 0; q < n; q++) a[p][q] += r[p]! * r[q]!; a[p][n] += r[p]! * ys[i]!; } });
  for (let c = 0; c < n; c++) {
    let m = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[m][c])) m = r;
    [a[c], a[m]] = [a[m], a[c]];
    for (let r = 0; r < n; r++) if (r !== c) { const f = a[r][c] / a[c][c]; for (let q = c; q <= n; q++) a[r][q] -= f * a[c][q]; }
  }
  return a.map((r, i) => r[n] / r[i]);
}

/** The cost table from measured instructions (per script name) and the model's counts of the same scripts. */
export function deriveCosts(measured: Record<string, number>, counts: Record<string, ModelCount>): CostTable {
  const names = Object.keys(TOKEN_SCRIPTS);
  const [lex, exec, call, define, iteration, stringChar] = leastSquares(names.map((n) => [counts[n]!.k.l, counts[n]!.k.x, counts[n]!.k.c, counts[n]!.k.f, counts[n]!.k.i, counts[n]!.k.S]), names.map((n) => measured[n]!)).map((v) => Math.max(0, Math.round(v)));
  const tokensOnly: CostTable = { lex: lex!, exec: exec!, call: call!, define: define!, iteration: iteration!, stringChar: stringChar!, lexFlash: 0, execFlash: 0, stringCharFlash: 0, native: {} as CostTable["native"] };
  for (const nb of NATIVE_SCRIPTS) {
    const [a, b] = nb.sizes.map((s) => `${nb.kind}-${s}`) as [string, string];
    const ua = counts[a]!.natives[nb.kind] ?? { calls: 0, units: 0 }, ub = counts[b]!.natives[nb.kind] ?? { calls: 0, units: 0 };
    const rest = (n: string) => measured[n]! - instructions({ ...counts[n]!.k, n: 0 }, tokensOnly, true);
    const per = ub.units === ua.units ? 0 : Math.max(0, (rest(b) - rest(a)) / (ub.units - ua.units));
    const perCall = ub.calls ? Math.max(0, (rest(b) - per * ub.units) / ub.calls) : 0;
    tokensOnly.native[nb.kind] = { call: Math.round(perCall), per: Math.round(per * 100) / 100 };
  }
  // peek32 cannot be measured on Linux (it reads no RAM there: targets/linux/jshardware.c jshFlashGetMemMapAddress);
  // jswrap_io_peek and jswrap_io_poke walk the same words, so it takes poke32's figures.
  tokensOnly.native.peek32 = { ...tokensOnly.native.poke32 };
  // Code read from Storage: the same scripts stored and evaluated from there; what the RAM costs and the built-ins
  // (the Storage write and read around them) leave is the flash-read tokens'.
  const flash = names.map((n) => "flash-" + n);
  const left = flash.map((n) => measured[n]! - priceCount({ ...counts[n]!, k: { ...counts[n]!.k, L: 0, X: 0, T: 0 } }, tokensOnly));
  const [lexFlash, execFlash, stringCharFlash] = leastSquares(flash.map((n) => [counts[n]!.k.L, counts[n]!.k.X, counts[n]!.k.T]), left).map((v) => Math.max(0, Math.round(v)));
  return { ...tokensOnly, lexFlash: lexFlash!, execFlash: execFlash!, stringCharFlash: stringCharFlash! };
}

/** The model's counts of every calibration script (deterministic: no interpreter needed). */
export function modelCounts(): Record<string, ModelCount> {
  const out: Record<string, ModelCount> = {};
  const poke = (d: SimDevice) => ({ poke32: (_a: number, v: unknown) => d.bill("poke32", typeof v === "number" ? 1 : (v as ArrayLike<number>).length) });
  for (const [n, src] of Object.entries(calibrationScripts("model"))) out[n] = modelRun(src, n.startsWith("poke32") ? poke : undefined);
  return out;
}

/**
 * Interpreter runs for the bench: each in a directory of its own (the Linux build keeps its Storage in
 * ./espruino.flash, which two runs at once must not share), stdin a FIFO held open with nothing in it (at end of
 * input the Linux build's console keeps reading EOF as characters and never leaves its `-e` loop while timers are
 * pending: targets/linux/main.c), at most `jobs` at once.
 */
export class Interpreter {
  private running = 0;
  private waiting: (() => void)[] = [];
  constructor(public exe: string, private tmp: string, private jobs = 2) {}
  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= this.jobs) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try { return await fn(); } finally { this.running--; this.waiting.shift()?.(); }
  }
  /** A fresh working directory with its stdin FIFO. */
  dir(name: string): { cwd: string; stdin: number } {
    const cwd = fs.mkdtempSync(path.join(this.tmp, name.replace(/[^\w-]/g, "_") + "-"));
    const fifo = path.join(cwd, "stdin");
    execFileSync("mkfifo", [fifo]);
    return { cwd, stdin: fs.openSync(fifo, "r+") };
  }
  /** Runs `-e src` (under callgrind when counting), resolving with its output and instruction count. */
  run(name: string, src: string, count = true, timeoutMs = 3_600_000): Promise<{ out: string; n: number }> {
    return this.slot(() => new Promise((resolve, reject) => {
      const { cwd, stdin } = this.dir(name), cg = path.join(cwd, "cg.out");
      const args = count ? ["--tool=callgrind", "--callgrind-out-file=" + cg, this.exe, "-e", src] : ["-e", src];
      const p = spawn(count ? "valgrind" : this.exe, args, { cwd, stdio: [stdin, "pipe", "pipe"], timeout: timeoutMs });
      let out = "", err = "";
      p.stdout!.on("data", (d: Buffer) => { out += d.toString("latin1"); });
      p.stderr!.on("data", (d: Buffer) => { err += d.toString("latin1"); });
      p.on("error", (e) => { fs.closeSync(stdin); reject(new Error(`${name}: ${e.message}`)); });
      p.on("close", (rc, sig) => {
        fs.closeSync(stdin);
        if (rc !== 0) return reject(new Error(`${name} in the interpreter: ${sig ? "killed by " + sig : "exit " + rc}${/Uncaught.*$/m.exec(out)?.[0] ? " (" + /Uncaught.*$/m.exec(out)![0] + ")" : ""}`));
        const m = count ? /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(cg, "utf8")) : null;
        if (count && !m) return reject(new Error(`${name}: no callgrind total (${err.slice(-200)})`));
        resolve({ out, n: m ? Number(m[1]) : 0 });
      });
    }));
  }
}

/** Callgrind instructions of every calibration script, the empty script's subtracted. */
export async function measureCalibration(it: Interpreter): Promise<Record<string, number>> {
  const scripts = calibrationScripts("linux");
  const names = Object.keys(scripts);
  const [empty, ...ns] = await Promise.all([it.run("empty", ""), ...names.map((n) => it.run(n, scripts[n]!))]);
  return Object.fromEntries(names.map((n, i) => [n, ns[i]!.n - empty!.n]));
}

/** A bundle as the Linux build can run it: peek32/poke32/getSerial renamed to the stand-ins' (bench-shims.js). */
export const linuxBundle = (code: string) => code.replace(/\bpeek32\b/g, "__peek32").replace(/\bpoke32\b/g, "__poke32").replace(/\bgetSerial\(/g, "__getSerial(");

/**
 * A whole provisioning session as one interpreter script: the stand-ins, the scripted client (bench-session.ts),
 * the PoP's Storage files and the bundle in Storage, evaluated from there at root scope as the board runs its boot
 * code; it ends with quit() once the client has its last reply.
 */
export function sessionScript(o: { shims: string; driver: string; ble: boolean; storePop: string; bundle: string }): string {
  // __NO_SOCKETS: the captive DNS's socket a stand-in, not a real one: the Linux build polls real sockets in its
  // idle loop (libs/network/socketserver.c socketIdle) as often as wall time lets it, work no model can predict.
  return `var __BLE=${o.ble},__NO_SOCKETS=true;\n` + o.shims + o.driver +
    "\nvar S=require('Storage');S.eraseAll();" + o.storePop + "S.write('.bench'," + JSON.stringify(linuxBundle(o.bundle)) + ");\n" +
    "__st(function(){__st(eval,0,S.read('.bench'));},10);";
}

/** What a calibration run records in the table: when, with which interpreter, by which command, what it measured. */
export interface Calibration { date: string; interpreter: string; command: string; measured: Record<string, number> }

/** The table's generated block (between its GENERATED markers) for a calibration and the costs derived from it. */
export function tableSource(cal: Calibration, t: CostTable): string {
  const j = (v: unknown) => JSON.stringify(v);
  const measured = Object.entries(cal.measured).map(([k, v]) => `    ${j(k)}: ${v},`).join("\n");
  const natives = Object.entries(t.native).map(([k, v]) => `    ${k}: { call: ${v.call}, per: ${v.per} },`).join("\n");
  return `// GENERATED BY npm run bench (test-host/bench-calibrate.ts): do not edit by hand.
export const CALIBRATION = {
  date: ${j(cal.date)},
  interpreter: ${j(cal.interpreter)},
  command: ${j(cal.command)},
  /** Per calibration script (test-host/bench-calibrate.ts calibrationScripts): callgrind instructions, empty run subtracted. */
  measured: {
${measured}
  } as Record<string, number>,
};

export const COST: CostTable = {
  lex: ${t.lex},
  exec: ${t.exec},
  call: ${t.call},
  define: ${t.define},
  iteration: ${t.iteration},
  stringChar: ${t.stringChar},
  lexFlash: ${t.lexFlash},
  execFlash: ${t.execFlash},
  stringCharFlash: ${t.stringCharFlash},
  native: {
${natives}
  },
};
// END GENERATED`;
}

/** Rewrites the table file's generated block. */
export function writeTable(file: string, cal: Calibration, t: CostTable) {
  const src = fs.readFileSync(file, "utf8");
  const a = src.indexOf("// GENERATED BY"), b = src.indexOf("// END GENERATED") + "// END GENERATED".length;
  if (a < 0 || b < a) throw new Error(`${file}: no GENERATED block to rewrite`);
  fs.writeFileSync(file, src.slice(0, a) + tableSource(cal, t) + src.slice(b));
}

/** The instructions a model count stands for under a table (its built-ins priced from their calls and units). */
export function priceCount(c: ModelCount, t: CostTable): number {
  let n = instructions({ ...c.k, n: 0 }, t, true);
  for (const [kind, v] of Object.entries(c.natives)) n += t.native[kind as Native].call * v!.calls + t.native[kind as Native].per * v!.units;
  return n;
}

/**
 * Globals a RAM stand-in of the RSA block needs in the model (the bench's accelerated X25519 in the Linux build):
 * E.getAddressOf(typedArray, true) gives each array an address of its own, poke32 writes into the array there,
 * as the Linux build writes into RAM.
 */
export function ramStandIn(d: SimDevice): Record<string, unknown> {
  const arrays: { base: number; a: Uint32Array }[] = [];
  (d.ctx.E as Record<string, unknown>).getAddressOf = (a: Uint32Array) => { const base = 0x10000000 * (arrays.length + 1); arrays.push({ base, a }); return base; };
  return {
    poke32: (addr: number, v: unknown) => {
      const words = typeof v === "number" ? [v] : Array.from(v as ArrayLike<number>);
      d.bill("poke32", words.length);
      const r = arrays.find((x) => addr >= x.base && addr < x.base + 4 * x.a.length);
      if (r) words.forEach((w, i) => { r.a[((addr - r.base) >> 2) + i] = w; });
    },
  };
}

/** One whole run the bench both predicts (the model) and measures (callgrind): its script, and its check. */
export interface PredictedRun { name: string; src: string; check(out: string): string | undefined; extra?: (d: SimDevice) => Record<string, unknown> }

/**
 * Each run in the model (its instruction count under table `t`) and in the interpreter under callgrind (the empty
 * run subtracted), both checked; the error is (predicted − measured) / measured.
 */
export async function predictSessions(it: Interpreter, runs: PredictedRun[], t: CostTable): Promise<{ name: string; predicted: number; measured: number; error: number }[]> {
  const empty = (await it.run("empty", "")).n;
  return Promise.all(runs.map(async (r) => {
    const m = modelRun(r.src, r.extra);
    const bad = r.check(m.out.join("\n"));
    if (bad) throw new Error(`${r.name} in the simulator's model: ${bad.split("\n")[0]}`);
    const real = await it.run(r.name, r.src);
    const badReal = r.check(real.out);
    if (badReal) throw new Error(`${r.name} in the interpreter: ${badReal.split("\n")[0]}`);
    const predicted = priceCount(m, t), measured = real.n - empty;
    return { name: r.name, predicted, measured, error: predicted / measured - 1 };
  }));
}
