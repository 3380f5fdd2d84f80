// npm run bench — size, X25519 cost against stock tweetnacl, session cost and memory, in one run.
//
// Always: Node timings (this host) and the simulator's accounting of the firmware's own JS.
// With ESPRUINO=/path/to/espruino (an Espruino interpreter built for Linux from Espruino's public source,
// outside this repository) and valgrind on PATH: instruction counts of both X25519s inside that
// interpreter (callgrind; stable on a noisy machine) and process.memory() figures.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import ts from "typescript";
import nacl from "tweetnacl";
import { x25519, convolveJs, gatherJs, generatedOps, loopOps } from "../src/crypto/x25519";
import { SimDevice, loadBundle } from "./sim/device";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { COST, CALIBRATION } from "./sim/cost-table";
import { Interpreter, PredictedRun, modelCounts, measureCalibration, deriveCosts, writeTable, predictSessions, sessionScript, ramStandIn, linuxBundle as linuxCode } from "./bench-calibrate";
import { x25519Mpi, MpiIo } from "../src/crypto/x25519-mpi";
import { RsaBlock, RSA_BASE, DPORT_BASE, MULT_US, modexpMs } from "./sim/rsa";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { WORLD } from "./tests/helpers";
import { readConfig } from "../tools/config.mjs";
import { sessionPlan, simHttpSession } from "./bench-session";
import { bareServer, portalInEspruino, portalInSimulator } from "./bench-portal";
import { benchSec2 } from "./bench-sec2";
import { PAGE_CHUNK } from "../src/transport/web-portal";
import { writeRecord } from "../src/core/record";
import { POP_SLOTS } from "../src/prov/pop";
import { minify } from "terser";
import { MINIFY, build } from "../tools/build.mjs";

const HELP = `usage: npm run bench            (builds test-host/configs' SoftAP and BLE builds first)
       ESPRUINO=/path/to/espruino npm run bench [-- --cost-model]
Prints the bundle size, X25519 in Node for the firmware and tweetnacl (with the RFC 7748 1,000-iteration
check), and a Security 1 session through the simulator at its default slow-down. With ESPRUINO set (an
Espruino interpreter built for Linux, outside this repository) and valgrind on PATH, also both X25519s'
instruction counts inside it and process.memory() figures, and calibrates and checks the simulator's cost model
(test-host/sim/cost-table.ts: rewritten when the calibration changes it; whole sessions predicted and measured):
30–60 minutes on 2 shared cores. --cost-model runs only the cost model's part. Takes no other arguments.`;
// A failing bench says in one line what failed (no stack trace) and exits non-zero.
for (const ev of ["uncaughtException", "unhandledRejection"] as const) process.on(ev, (e: unknown) => { console.error(`bench: ${(e as Error)?.message ?? e}`); process.exit(1); });
{
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) { console.log(HELP); process.exit(0); }
  if (args[0] === "--cost-model") args.shift();
  if (args.length) { console.error(`bench: unknown argument '${args[0]}' (npm run bench -- --help)`); process.exit(2); }
}

const ROOT = path.resolve(import.meta.dirname, "..");
/** --cost-model: with ESPRUINO, only the cost model's calibration and predictions (skips the X25519 and memory runs). */
const MODEL_ONLY = process.argv.includes("--cost-model");
// The bench measures reference builds of its own from test-host/configs (the shipped defaults; the BLE build
// for BLE's memory), not the user's sdkconfig, so its figures compare across clones. Built here, after the
// arguments (--help builds nothing), into dist/bench/ (npm test's processes read dist/softap and dist/ble).
const CONFIGS = "test-host/configs", SOFTAP = "dist/bench/softap.js", BLE = "dist/bench/ble.js";
const REF = readConfig(path.join(ROOT, CONFIGS, "softap.sdkconfig"));
for (const [cfg, out] of [["softap", SOFTAP], ["ble", BLE]]) await build({ board: "esp32", config: `${CONFIGS}/${cfg}.sdkconfig`, out });
// The reference build's ladder slice, as the firmware uses it.
const SLICE: number = REF.PROV_X25519_SLICE;
const require = createRequire(import.meta.url);
const out: string[] = [];
const say = (s = "") => { out.push(s); console.log(s); };
const kb = (n: number) => `${n.toLocaleString("en")} B`;
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;

function timeMs(fn: () => void, n: number): number {
  for (let i = 0; i < 3; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); fn(); t.push(performance.now() - t0); }
  return median(t);
}

// ---- sizes ----------------------------------------------------------------------------------------
const board = JSON.parse(fs.readFileSync(path.join(ROOT, "boards/esp32.json"), "utf8"));
/** The board's clock (boards/esp32.json cpuMhz): every estimate below derives from it. */
const HZ: number = board.cpuMhz * 1e6;
const min = fs.statSync(path.join(ROOT, SOFTAP)).size;
const raw = fs.statSync(path.join(ROOT, SOFTAP.replace(/\.js$/, ".debug.js"))).size;
const STORAGE_HEADER = 32; // Espruino Storage file header (jsflash.c, JsfFileHeader + name), see test-host/sim/storage.ts
say("== Bundle");
say(`raw (unminified ES5)      ${kb(raw)}`);
say(`minified (${SOFTAP})  ${kb(min)}   goal ≤ 24,576 B  ${min <= 24576 ? "ok" : "OVER"}`);
say(`in flash (.boot0)         ${kb(min + STORAGE_HEADER)}   (code + ${STORAGE_HEADER}-byte Storage header; board budget ${kb(board.bundleBudget)})`);

// ---- X25519 on this host ------------------------------------------------------------------------------
const K = new Uint8Array(32).map((_, i) => i + 1), U = new Uint8Array(32); U[0] = 9;
const ours = (k: Uint8Array, u: Uint8Array) => { let r!: Uint8Array; x25519(k, u, { ops: generatedOps, cv: convolveJs, gather: gatherJs }, (o) => (r = o)); return r; };
if (Buffer.compare(ours(K, U), nacl.scalarMult(K, U)) !== 0) throw new Error("x25519 differs from tweetnacl");
const nodeOurs = timeMs(() => ours(K, U), 60), nodeNacl = timeMs(() => nacl.scalarMult(K, U), 60);
// Dot products per scalar multiplication (deterministic).
let calls = 0;
x25519(K, U, { ops: generatedOps, cv: (a, b, o) => { calls++; return convolveJs(a, b, o); }, gather: gatherJs }, () => { /* counted */ });
say("\n== X25519 in Node " + process.version + " (host JIT; not the target, shown for scale)");
say(`firmware x25519 (JS dot product)  ${nodeOurs.toFixed(2)} ms`);
say(`tweetnacl scalarMult (nacl-fast)  ${nodeNacl.toFixed(2)} ms`);
let k: Uint8Array = new Uint8Array(32), u: Uint8Array = new Uint8Array(32); k[0] = 9; u[0] = 9;
const t1000 = performance.now();
for (let i = 0; i < 1000; i++) { const r = ours(k, u); u = k; k = r; }
const it1000 = Buffer.from(k).toString("hex");
const ok1000 = it1000 === "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";
say(`RFC 7748 §5.2 1,000 iterations    ${ok1000 ? "match" : "MISMATCH " + it1000} in ${(performance.now() - t1000).toFixed(0)} ms`);
if (!ok1000) process.exitCode = 1;

// Block operations per accelerated X25519 (deterministic), counted on the simulator's model of the block, with
// the peek32 calls it makes (multi-word reads and single registers).
let MPI_READS = 0, MPI_FLAGS = 0;
const MPI_OPS = (() => {
  const blk = new RsaBlock();
  const io: MpiIo = {
    rsa: RSA_BASE, dport: DPORT_BASE, now: () => blk.now() / 1000,
    peek: (a, n) => (n && n > 1 ? (MPI_READS++, Uint32Array.from({ length: n }, (_, i) => blk.read(a + 4 * i))) : (MPI_FLAGS++, blk.read(a))),
    poke: (a, v) => { if (typeof v === "number") blk.write(a, v); else for (let i = 0; i < v.length; i++) blk.write(a + 4 * i, v[i]!); },
  };
  let ok = false;
  x25519Mpi(K, U, io, {}, (r) => { ok = Buffer.compare(r, nacl.scalarMult(K, U)) === 0; }, () => {});
  if (!ok) throw new Error("accelerated x25519 differs from tweetnacl");
  return blk.ops;
})();
// Hardware time of one 1024-bit Montgomery product on a 240 MHz ESP32 (test-host/sim/rsa.ts MULT_US, from a
// measurement); the inversion's 1024-bit MODEXP runs over the whole operand width (rsa.ts modexpMs, ≈ 16 ms).
const HW_MULT_US = MULT_US, HW_EXP_MS = modexpMs(32);

// ---- a whole session through the simulator -------------------------------------------------------------
const d = new SimDevice({ world: WORLD, slowdown: DEFAULT_SLOWDOWN });
d.install(loadBundle(SOFTAP));
d.boot();
d.run(60000); // boot and the device key pair (made before any client connects)
const bootJs = d.sched.jsInstructions, t0 = d.sched.now, mpiOpsBoot = d.rsa ? d.rsa.ops : 0;
// Over the SoftAP (the default build), as esp_prov --transport softap; each reply's wait is recorded (a failure is
// e.g. the client's 30 s timeout while X25519 runs).
const { res, waits } = await simHttpSession(d, { pop: String(d.evaluate("prov.pop")) });
const sessJs = d.sched.jsInstructions - bootJs, sessMpiOps = d.rsa ? d.rsa.ops - mpiOpsBoot : 0;
const secureAt = d.log.find((l) => l.t >= t0 && /security1: Secure session established/.test(l.line))?.t, secureMs = secureAt === undefined ? NaN : secureAt - t0;
say(`\n== Security1 session + SetConfig/Apply over SoftAP/HTTP, simulator (firmware bundle, cost model: ${DEFAULT_SLOWDOWN} cycles per instruction at ${board.cpuMhz} MHz)`);
say(`result                       ${res}`);
say(`device time per reply        ${waits.join(", ")}  (iOS gives up after 30 s without data, esp_prov after 60 s)`);
say(`firmware work (model)        boot + key pair ${(bootJs / 1e9).toFixed(2)} G instructions, session ${(sessJs / 1e9).toFixed(2)} G (${sessMpiOps.toLocaleString("en")} RSA block operations)`);
say(`simulated device time        ${((d.sched.now - t0) / 1000).toFixed(1)} s from connect to that result`);

// ---- the web portal: page size, time to serve ----------------------------------------------------------------
const page = await portalInSimulator(SOFTAP, say);

// ---- inside the real interpreter ------------------------------------------------------------------------
const E = process.env.ESPRUINO;
let sec2Espruino: Parameters<typeof benchSec2>[0]["espruino"];
const hasValgrind = spawnSync("valgrind", ["--version"]).status === 0;
if (!E) {
  say("\n(ESPRUINO not set: no interpreter instruction counts or process.memory(); see docs/benchmark.md)");
} else if (!fs.existsSync(E)) {
  say(`\nESPRUINO=${E} does not exist`);
  process.exitCode = 1;
} else {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const es5 = (file: string) => ts.transpileModule(fs.readFileSync(file, "utf8"), {
    compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.None, removeComments: true },
  }).outputText.replace(/^.*exports.*$/gm, "").replace(/"use strict";/, "");
  const ourSrc = es5(path.join(ROOT, "src/crypto/x25519.ts"));
  const naclSrc = "var self={};" + fs.readFileSync(require.resolve("tweetnacl/nacl-fast.js"), "utf8");
  const setup = "var k=new Uint8Array(32),u=new Uint8Array(32);for(var i=0;i<32;i++)k[i]=i+1;u[0]=9;";
  const callOurs = (ops: string) => "var slices=1;x25519(k,u,{ops:" + ops + ",cv:E.convolve,gather:E.mapInPlace,defer:function(f){slices++;f();},slice:" + SLICE + "},function(o){R=o;});print('SLICES '+slices);";
  const callNacl = "R=self.nacl.scalarMult(k,u);";
  const hexOut = "var h='';for(i=0;i<32;i++)h+=(R[i]<16?'0':'')+R[i].toString(16);print('OUT '+h);";
  const script = (name: string, body: string) => { const f = path.join(tmp, name); fs.writeFileSync(f, body); return f; };
  // Every interpreter run in a directory of its own (the Linux build keeps Storage in ./espruino.flash, which runs
  // at once must not share) with its own stdin FIFO: test-host/bench-calibrate.ts Interpreter.
  const interp = new Interpreter(E, tmp);
  const inDir = <T>(file: string, fn: (o: { cwd: string; stdin: number }) => T): T => {
    const o = interp.dir(path.basename(file));
    try { return fn(o); } finally { fs.closeSync(o.stdin); }
  };
  const runE = (file: string) => inDir(file, ({ cwd, stdin }) => execFileSync(E, ["-e", fs.readFileSync(file, "utf8")], { encoding: "latin1", timeout: 600000, cwd, stdio: [stdin, "pipe", "pipe"], maxBuffer: 64 << 20 }));
  const instr = (file: string): number => inDir(file, ({ cwd, stdin }) => {
    const cg = path.join(cwd, "cg.out");
    execFileSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=" + cg, E, "-e", fs.readFileSync(file, "utf8")], { stdio: [stdin, "ignore", "ignore"], timeout: 1800000, cwd });
    const m = /^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(cg, "utf8"));
    if (!m) throw new Error(`no callgrind total for ${path.basename(file)}`);
    return Number(m[1]);
  });
  const want = Buffer.from(nacl.scalarMult(K, U)).toString("hex");
  // The accelerated X25519 as ES5 (TS emits `exports.f = f;` before the functions, which Espruino does not hoist),
  // minified with the build's options (tools/build.mjs): the interpreter lexes names and spaces on every run of a
  // statement, so the minified code the board runs is cheaper than the transpiled text.
  // The build's terser options, keeping top-level names: the scripts below call x25519Mpi and self.nacl by name.
  // terser copies `toplevel` into the compress and mangle objects it is given (MINIFY's, shared with the builds
  // this process already ran), so those are overridden too, or it drops the unused top-level names.
  const BENCH_MINIFY = { ...MINIFY, toplevel: false, compress: { ...MINIFY.compress, toplevel: false }, mangle: { ...MINIFY.mangle, toplevel: false } };
  // Bundled as the firmware is (rollup + TypeScript, so the register table's const enums are inlined), exposing
  // x25519Mpi as a global.
  const entry = path.join(tmp, "mpi-entry.ts");
  fs.writeFileSync(entry, `export { x25519Mpi } from ${JSON.stringify(path.join(ROOT, "src/crypto/x25519-mpi"))};\n`);
  const mpiBundle = await rollup({
    input: entry, treeshake: { moduleSideEffects: false },
    plugins: [typescript({ tsconfig: path.join(ROOT, "tsconfig.json"), include: [path.join(ROOT, "src/**/*.ts"), entry], outputToFilesystem: false, noEmitOnError: true })],
  });
  const mpiOut = (await mpiBundle.generate({ format: "iife", name: "MPI", strict: false, freeze: false, generatedCode: "es5" })).output[0].code;
  const mpiSrc = (await minify(mpiOut + "var x25519Mpi=MPI.x25519Mpi;", BENCH_MINIFY)).code!;
  const mpiSetup = "var K0=new Uint8Array(32),U0=new Uint8Array(32);for(var i=0;i<32;i++)K0[i]=i+1;U0[0]=9;";
  // RAM for the RSA block (0x820 bytes) and DPORT (0x494), done (INTERRUPT) and CLEAN preset to 1.
  const mpiRam = "var RA=new Uint32Array(520),DA=new Uint32Array(293),rb=E.getAddressOf(RA,true),db=E.getAddressOf(DA,true);RA[0x814>>2]=1;RA[0x818>>2]=1;" +
    // peek: a fresh Uint32Array of n words, as peek32(addr, n) returns (the firmware reads 4 at a time), or a register
    // as poke32 left it in RAM (the RSA clock bit, M'; done and CLEAN stay 1): a JS call more than peek32's native call.
    "var io={rsa:rb,dport:db,now:getTime,poke:poke32,peek:function(a,n){return n?new Uint32Array(n):a-db>=0&&a-db<1172?DA[(a-db)>>2]:RA[(a-rb)>>2];}};";
  const mpiF = script("mpi.js", mpiSrc + mpiSetup + mpiRam + "x25519Mpi(K0,U0,io,{slice:" + 4 * SLICE + ",defer:function(f){f();}},function(o){print('DONE');},function(w){print('FAIL '+w);});");
  const mpiBase = script("mpi0.js", mpiSrc + mpiSetup + mpiRam);
  if (!runE(mpiF).includes("DONE")) throw new Error("the accelerated X25519 did not finish in Espruino");
  // Both field-code variants (CONFIG_PROV_X25519_CODE): generated straight-line code and the compact loops.
  const oursF = script("ours.js", ourSrc + setup + "var R;" + callOurs("generatedOps") + hexOut);
  const loopsF = script("loops.js", ourSrc + setup + "var R;" + callOurs("loopOps") + hexOut);
  const oursBase = script("ours0.js", ourSrc + setup + "var R;");
  const naclF = script("nacl.js", naclSrc + setup + "var R;" + callNacl + hexOut);
  const naclBase = script("nacl0.js", naclSrc + setup + "var R;");
  let accel: { im: number; loops: number; est: (i: number, f: number) => number } | undefined;
  if (!MODEL_ONLY) {
    // One timed run of each: checks the result, gives the wall clock and the slice count the firmware used.
    const wall = (f: string) => { const t = performance.now(); const o = runE(f); return { ms: performance.now() - t, o }; };
    const wo = wall(oursF), wn = wall(naclF), wl = wall(loopsF);
    for (const [f, w] of [[oursF, wo], [naclF, wn], [loopsF, wl]] as const)
      if (!w.o.includes("OUT " + want)) throw new Error(`${path.basename(f)} in Espruino gave a wrong result:\n${w.o}`);
    const slices = Number(/SLICES (\d+)/.exec(wo.o)![1]);
    say(`\n== Inside Espruino (${E}; ${runE(script("v.js", "print('VER '+process.env.VERSION+' '+process.memory().blocksize)")).match(/VER (.*)/)![1]}-byte JsVars)`);
    say(`wall clock (noisy)           firmware ${(wo.ms - wall(oursBase).ms).toFixed(0)} ms, tweetnacl ${(wn.ms - wall(naclBase).ms).toFixed(0)} ms`);
    // The accelerated X25519's figures, for the SessionCmd0 → SessionResp1 estimate after the sessions.
    if (!hasValgrind) say("valgrind not found: no instruction counts");
    else {
      const io = instr(oursF) - instr(oursBase), inacl = instr(naclF) - instr(naclBase);
      const il = instr(loopsF) - instr(oursBase);
      say(`instructions (callgrind)     firmware ${(io / 1e9).toFixed(2)} G (generated field code), ${(il / 1e9).toFixed(2)} G (loops), tweetnacl nacl-fast ${(inacl / 1e9).toFixed(2)} G`);
      say(`ratio                        tweetnacl / firmware = ${(inacl / io).toFixed(1)}× generated, ${(inacl / il).toFixed(1)}× loops   (goal ≥ 10×); loops / generated = ${(il / io).toFixed(2)}×`);
      const est = (i: number) => `${(i * 1 * 1 / HZ).toFixed(1)}–${(i * 1.3 * 2 / HZ).toFixed(1)} s`;
      say(`ESP32 estimate at ${board.cpuMhz} MHz    firmware ${est(io)} generated, ${est(il)} loops, tweetnacl ${est(inacl)}`);
      say("  (assumption: 1–1.3 Xtensa instructions per x86 one, 1–2 cycles each, as issue 6 states)");
      const perCall = io / calls, lo = perCall / HZ * 1000, hi = perCall * 2.6 / HZ * 1000;
      say(`per E.convolve call          ${calls.toLocaleString("en")} calls → ${(perCall / 1000).toFixed(0)} k instructions each ≈ ${lo.toFixed(2)}–${hi.toFixed(2)} ms (geometric middle ${Math.sqrt(lo * hi).toFixed(2)})`);
      // ---- X25519 on the RSA accelerator (src/crypto/x25519-mpi.ts), peripheral stood in by RAM ----
      const im = instr(mpiF) - instr(mpiBase);
      // What the stand-in's JS call adds to each peek, measured here: a wrapped 4-word read against the allocation
      // of the same Uint32Array, a wrapped register read against a native call returning a number.
      const loop = (body: string) => instr(script("loop.js", mpiRam + "var x;function t(){for(var i=0;i<2000;i++){" + body + "}}t();")) / 2000;
      const perRead = loop("x=io.peek(rb,4);") - loop("x=new Uint32Array(4);"), perFlag = loop("x=io.peek(rb);") - loop("x=Math.abs(rb);");
      const stub = MPI_READS * perRead + MPI_FLAGS * perFlag, imBoard = im - stub;
      say(`\n-- X25519 on the RSA accelerator (${MPI_OPS.toLocaleString("en")} block operations; peripheral stood in by RAM, see below)`);
      say(`instructions (callgrind)     accelerated ${(im / 1e9).toFixed(3)} G with the stand-in's JS calls; ${(imBoard / 1e9).toFixed(3)} G without them, as on the board ` +
        `(${MPI_READS.toLocaleString("en")} reads × ${(perRead / 1e3).toFixed(0)} k + ${MPI_FLAGS.toLocaleString("en")} register reads × ${(perFlag / 1e3).toFixed(0)} k)`);
      say(`ratio                        tweetnacl / accelerated = ${(inacl / im).toFixed(1)}× (${(inacl / imBoard).toFixed(1)}× as on the board)   (goal ≥ 20×)   JS firmware / accelerated = ${(io / im).toFixed(1)}×`);
      // Stock tweetnacl is the goal's yardstick; minified as our bundle is, it lexes less, so say that ratio too.
      const naclMin = "var self={};" + (await minify(fs.readFileSync(require.resolve("tweetnacl/nacl-fast.js"), "utf8"), BENCH_MINIFY)).code!;
      const inaclMin = instr(script("naclmin.js", naclMin + setup + "var R;" + callNacl)) - instr(script("naclmin0.js", naclMin + setup + "var R;"));
      say(`                             tweetnacl minified as the bundle (${(inaclMin / 1e9).toFixed(2)} G) / accelerated = ${(inaclMin / im).toFixed(1)}× (${(inaclMin / imBoard).toFixed(1)}× as on the board)`);
      const hwMs = MPI_OPS * HW_MULT_US / 1000 + HW_EXP_MS;
      say(`hardware time per X25519     ${hwMs.toFixed(0)} ms: ${MPI_OPS - 1} products × ${HW_MULT_US} µs + 1 MODEXP ≈ ${HW_EXP_MS} ms (1024-bit operands; see HW_MULT_US)`);
      const estS = (i: number, f: number) => i * f / HZ + hwMs / 1000;
      say(`ESP32 estimate at ${board.cpuMhz} MHz    accelerated X25519 ${estS(im, 1).toFixed(2)}–${estS(im, 2.6).toFixed(2)} s (1–2.6 cycles per instruction + hardware)`);
      say(`per block operation          ${(im / MPI_OPS / 1e3).toFixed(0)} k instructions ≈ ${(im / MPI_OPS * Math.sqrt(2.6) / HZ * 1000).toFixed(2)} ms at the geometric middle`);
      // SessionCmd0 → SessionResp1 on the device as the simulator's cost model times it (connect → "Secure session
      // established": connection, proto-ver, Cmd0 with the shared secret's X25519, Cmd1); counted in the interpreter below.
      say(`SessionCmd0 → SessionResp1   ${(secureMs / 1000).toFixed(1)} s from connect in the simulator (cost model, ${DEFAULT_SLOWDOWN} cycles per instruction at ${board.cpuMhz} MHz)   (goal ≤ 5 s)`);
      accel = { im, loops: il, est: estS };
      say("  stand-in: poke32 writes a Uint32Array in RAM (E.getAddressOf(arr, true)); peek32 cannot read RAM on Linux");
      say("  (targets/linux/jshardware.c jshFlashGetMemMapAddress returns 0), so a JS function returning a fresh Uint32Array of");
      say("  the same size reads it; the done and CLEAN flags are preset to 1. Same calls and sizes as on the ESP32; results are");
      say("  not checked. The estimates below use the figure with the stand-in's calls (an upper bound).");
      say(`slice                        ${(io / slices / 1e6).toFixed(0)} M instructions per slice (${slices} slices of ${SLICE} ladder steps or ${SLICE * 8} inversion products) ≈ ${(io / slices / HZ * 1000).toFixed(0)}–${(io / slices * 2.6 / HZ * 1000).toFixed(0)} ms on the ESP32`);
    }
  }
  const shims = fs.readFileSync(path.join(ROOT, "test-host/bench-shims.js"), "utf8");
  /** A bundle as the Linux build can run it: peek32/poke32/getSerial renamed to the shims'. */
  const linuxBundle = (file: string) => linuxCode(fs.readFileSync(path.join(ROOT, file), "latin1"));
  // For the Security 2 section: a SoftAP bundle's JsVars once booted and idle (interpreter's own + firmware's).
  const bootJsVars = (file: string) => {
    const o = runE(script("boot-only.js", "var __BLE=false;\n" + shims + "\nvar S=require('Storage');S.eraseAll();S.write('.bench'," + JSON.stringify(linuxBundle(file)) +
      ");\nvar __st=setTimeout;__st(function(){print('BASE '+process.memory().usage);__st(eval,0,S.read('.bench'));__st(function(){print('BOOTED '+process.memory().usage);quit();},5000);},10);"));
    const m = /BASE (\d+)[\s\S]*BOOTED (\d+)/.exec(o);
    return m ? Number(m[2]) - Number(m[1]) + Number(/U (\d+)/.exec(runE(script("u0.js", "print('U '+process.memory().usage)")))![1]) : NaN;
  };
  if (hasValgrind) sec2Espruino = { run: runE, instr, tmp, budget: board.jsvarsBudget.wifi, bootJsVars };
  if (!MODEL_ONLY) {
    // Slices from timers, as on the board (a synchronous defer would keep every slice's frame alive); the module
    // is loaded before m0, so its own code (in flash on the board) is not counted.
    const peakOf = (ops: string) => /PEAK (\d+)/.exec(runE(script("peak-" + ops + ".js", ourSrc + setup + "var R,m0=process.memory().usage,pk=0;x25519(k,u,{ops:" + ops +
      ",cv:E.convolve,gather:E.mapInPlace,defer:function(f){pk=Math.max(pk,process.memory().usage);setTimeout(f,0);},slice:" + SLICE + "},function(o){R=o;print('PEAK '+(pk-m0));});")))?.[1] ?? "n/a";
    const peakGen = peakOf("generatedOps"), peakLoops = peakOf("loopOps");
    const mpiPeak = /PEAK (\d+) (\d+)/.exec(runE(script("mpipeak.js", mpiSrc + mpiSetup + mpiRam +
      // Slices from timers, as on the board (a synchronous defer would keep every slice's frame alive); the
      // module's code is held in RAM here (E.getSizeOf of the function), in flash Storage on the board.
      "var m0=process.memory().usage,pk=0;x25519Mpi(K0,U0,io,{slice:" + 4 * SLICE + ",defer:function(f){pk=Math.max(pk,process.memory().usage);setTimeout(f,0);}}," +
      "function(o){print('PEAK '+(pk-m0)+' '+E.getSizeOf(x25519Mpi));},function(w){print('FAIL '+w);});")));
    const mpiSet = mpiPeak ? Number(mpiPeak[1]) - Number(mpiPeak[2]) : NaN;
    say(`JsVars accelerated X25519   ${mpiPeak ? mpiSet : "n/a"} extra at its peak (${mpiPeak ? mpiPeak[1] : "n/a"} with its code, which is in RAM here and in flash on the board)   (goal < 400)`);
    say(`JsVars X25519 working set    generated ${peakGen}, loops ${peakLoops} extra at its peak (X25519 alone, between slices; the module's own code not counted)`);
    // What the ladder holds: the most that trading the generated field code for loops (or for code kept in
    // flash) could give back is the "generated code" figure.
    // Ten field elements as x25519() makes them (its el()), whose helpers are not reachable from outside.
    const parts = /PARTS (\d+) (\d+) (\d+)/.exec(runE(script("parts.js", ourSrc + "var m=function(){return process.memory().usage;};var a=m();tables();var b=m();" +
      "var F=generatedOps(E.convolve,E.mapInPlace);var c=m();var L=[];for(var i=0;i<10;i++){var w=new Float64Array(35);L.push({w:w,r:new Float64Array(w.buffer,184,12)});}var d=m();print('PARTS '+(b-a)+' '+(c-b)+' '+(d-c));")));
    if (parts) say(`  of which (generated): tables ${parts[1]}, generated field code ${parts[2]} (pretokenised "ram" functions), 10 elements ${parts[3]}`);
  }
  // A whole session (boot, key pair, Cmd0/Cmd1, SetConfig, Apply, Connected, GetStatus) sampled after every
  // timer, event and stored reply, against the board's budgets (boards/*.json jsvarsBudget): the SoftAP build
  // (the default; it runs with BLE off) against the Wi-Fi-only budget, the BLE build against BLE + Wi-Fi.
  // The PoP the sessions use; in Storage as the board keeps it (src/prov/pop.ts), so a random-PoP build does not
  // draw one (which would shift the RNG stream the session's key pair is predicted from). A fixed-PoP build ignores it.
  const pop: string = REF.PROV_POP;
  const popFiles: Record<string, string> = {};
  writeRecord({ read: (k) => popFiles[k], write: (k, v) => { popFiles[k] = v; }, erase: () => {} }, POP_SLOTS, pop);
  const storePop = Object.entries(popFiles).map(([k, v]) => `S.write(${JSON.stringify(k)},${JSON.stringify(v)});`).join("");
  if (!MODEL_ONLY) {
    const empty = Number(/U (\d+)/.exec(runE(script("u.js", "print('U '+process.memory().usage)")))![1]);
    const budgets = board.jsvarsBudget as { bleWifi: number; wifi: number };
    let softapPeak = NaN;
    for (const [name, file, transport, budget, mix] of [
      ["SoftAP build (default, BLE off)", SOFTAP, "softap", budgets.wifi, "wifi"],
      ["BLE build (BLE on)", BLE, "ble", budgets.bleWifi, "bleWifi"],
    ] as const) {
      const plan = sessionPlan(pop, transport);
      const code = linuxBundle(file);
      const sessOut = runE(script(`session-${transport}.js`, `var __BLE=${transport === "ble"};\n` + shims + plan.driver +
        // A blank Storage each time: the previous session left credentials in the interpreter's flash file. The
        // bundle runs from (emulated) flash Storage as on the board, at root scope as the board runs .bootcde
        // (src/jsflash.c jsfLoadBootCodeFromFlash → jspEvaluateVar(code, 0)): eval from a timer, not inside a
        // function, so closures get no extra scope level the board would not have.
        "\nvar S=require('Storage');S.eraseAll();" + storePop + "S.write('.bench'," + JSON.stringify(code) + ");\n" +
        "__st(function(){print('BASE '+process.memory().usage);__st(eval,0,S.read('.bench'));},10);"));
      const bad = plan.check(sessOut), bm = /BOOTED (\d+) (\d+)/.exec(sessOut), sm = /SESSION (\d+) (.+?) (\d+) (\d+)\r?$/m.exec(sessOut);
      const base = /BASE (\d+)/.exec(sessOut);
      if (bad || !bm || !sm || !base) { say(`session in Espruino, ${name}: FAILED: ${bad || sessOut.slice(-400)}`); process.exitCode = 1; continue; }
      // Counted: the interpreter's own vars (an empty Linux build) + what the firmware added; not counted: the
      // shims and this driver, loaded before the bundle (on the board NRF/Wifi/ESP32/http are native).
      const own = (n: number) => n - Number(base[1]) + empty;
      const afterBoot = own(Number(bm[1])), bootPeak = own(Number(bm[2])), sessPeak = own(Number(sm[1])), whole = Math.max(bootPeak, sessPeak);
      const pct = (100 * whole) / budget;
      if (transport === "softap") softapPeak = sessPeak;
      say(`session in Espruino, ${name}: Connected; replies checked by the client's own stream`);
      say(`  JsVars (interpreter ${empty} + firmware; after a GC between timers, at events and replies): after boot ${afterBoot}, ` +
        `boot peak (device key pair) ${bootPeak}, session peak ${sessPeak} (at ${sm[2]}) → whole-session peak ${whole}`);
      say(`  budget ${mix} ${budget} JsVars: peak ${pct.toFixed(0)}%  (goal < 70%: ${pct < 70 ? "ok" : "OVER by " + Math.ceil(whole - 0.7 * budget) + " JsVars"})`);
    }
    if (page) {
      const w = await portalInEspruino({
        espruino: E, ...interp.dir("portal-session"), shims, bundle: linuxBundle(SOFTAP), pop, page,
        own: (n, base) => n - base + empty,
      });
      if (typeof w === "string") { say(`session in Espruino with two browsers loading the page: ${w}`); process.exitCode = 1; }
      else {
        say(`session in Espruino, SoftAP build, two browsers loading the page from SessionCmd0 on (Espruino's own HTTP server): ${w.downloads}`);
        const io = (n: string) => ({ espruino: E, ...interp.dir("portal-" + n), page });
        const [small, piece, whole] = [await bareServer(io("16"), 16), await bareServer(io("chunk"), PAGE_CHUNK), await bareServer(io("whole"), page.length)];
        say(`  JsVars session peak ${w.peak} (at ${w.at}) against ${softapPeak} without them: +${w.peak - softapPeak} for the two requests, all told`);
        say(`  Espruino's own server alone, same page to two clients at once: +${small} in 16-byte pieces (its objects for two connections,`);
        say(`  which any two HTTP clients cost), +${piece} in ${PAGE_CHUNK}-byte pieces → the page's send buffers +${piece - small}   (goal ≤ 150); written at once +${whole}`);
        say(`  the firmware's request handling on top: +${w.peak - softapPeak - piece} (its per-request wrappers and closures)`);
        if (!(piece - small <= 150) || !/complete/.test(w.downloads)) process.exitCode = 1;
      }
    }
  }
  // SessionCmd0 → SessionResp1 without the X25519, counted in the interpreter: callgrind of the SoftAP build
  // driven through SessionCmd0 and SessionCmd1 from the moment its key pair is ready, minus the same boot ended
  // there, minus one JS X25519 (the Linux build's RSA block fails the self-test, so the session's shared secret
  // is the JS one, `loops` on this board): an upper bound, as the session's X25519 also pays for its slices.
  // Both runs at once (two cores); each ends with quit() (the Linux build's -e loop runs while timers are pending).
  if (accel) {
    const code = JSON.stringify(linuxBundle(SOFTAP));
    const count = async (steps: number) => {
      const plan = sessionPlan(pop, "softap", { steps, sample: false, quit: true });
      const body = "var __BLE=false;\n" + shims + plan.driver +
        "\nconsole.log=function(l){print(l);if(/key pair ready/.test(l))__st(" + (steps ? "__start" : "quit") + ",10);};" +
        "\nvar S=require('Storage');S.eraseAll();" + storePop + "S.write('.bench'," + code + ");\n__st(function(){__st(eval,0,S.read('.bench'));},10);";
      const r = await interp.run(`session to SessionResp1 in Espruino (${steps} steps)`, body);
      const bad = steps ? plan.check(r.out) : /key pair ready/.test(r.out) ? undefined : "no key pair";
      if (bad) throw new Error(`session to SessionResp1 in Espruino (${steps} steps): ${bad.split("\n")[0]}`);
      return r;
    };
    const [boot, upTo1] = await Promise.all([count(0), count(2)]);
    const rest = upTo1.n - boot.n - accel.loops, restLo = rest / HZ, restHi = rest * 2.6 / HZ;
    say(`SessionCmd0 → SessionResp1 in the interpreter: ${(upTo1.n / 1e9).toFixed(2)} G − boot ${(boot.n / 1e9).toFixed(2)} G − one JS X25519 ${(accel.loops / 1e9).toFixed(2)} G = ≤ ${(rest / 1e9).toFixed(2)} G besides the X25519 ≈ ${restLo.toFixed(2)}–${restHi.toFixed(2)} s`);
    say(`  with the accelerated X25519: ≈ ${(accel.est(accel.im, 1) + restLo).toFixed(1)}–${(accel.est(accel.im, 2.6) + restHi).toFixed(1)} s on a ${board.cpuMhz} MHz ESP32 (1–2.6 cycles per instruction)   (goal ≤ 5 s)`);
  }
  // ---- the simulator's cost model against the interpreter (test-host/sim/cost-table.ts, docs/simulator.md) ----
  if (hasValgrind) {
    say("\n== Cost model (test-host/sim/cost-table.ts): predicted (simulator) and measured (callgrind) interpreter instructions");
    const measured = await measureCalibration(interp);
    const table = deriveCosts(measured, modelCounts());
    const table0 = JSON.stringify([CALIBRATION.measured, COST]);
    if (JSON.stringify([measured, table]) !== table0) {
      const ver = /VER (.*)/.exec(runE(script("ver.js", "print('VER '+process.env.VERSION+' '+process.env.BOARD)")))![1];
      writeTable(path.join(ROOT, "test-host/sim/cost-table.ts"), { date: new Date().toISOString().slice(0, 10), interpreter: `Espruino ${ver} (callgrind, x86 instructions)`, command: "ESPRUINO=/path/to/espruino npm run bench", measured }, table);
      say(`calibration                  ${Object.keys(measured).length} scripts: the table changed, rewrote test-host/sim/cost-table.ts (commit it)`);
    } else say(`calibration                  ${Object.keys(measured).length} scripts: the committed table (${CALIBRATION.date}) is what they give`);
    say(`  per token lexed ${table.lex}, executed ${table.exec}, per call ${table.call}; E.convolve ${table.native.convolve.call} + ${table.native.convolve.per}/element`);
    // Whole sessions (boot, key pair, the session, SetConfig, Apply, GetStatus) with the Linux stand-ins, Security 0
    // and 1, SoftAP and BLE (the JS X25519: the Linux build has no RSA block), and the accelerated X25519 on its RAM
    // stand-in; the same script in the model and in the interpreter.
    const runs: PredictedRun[] = [];
    for (const [transport, base] of [["softap", SOFTAP], ["ble", BLE]] as const) for (const sec of [0, 1] as const) {
      let file: string = base;
      if (sec === 0) {
        const cfg = path.join(tmp, `${transport}-sec0.sdkconfig`);
        fs.writeFileSync(cfg, fs.readFileSync(path.join(ROOT, CONFIGS, `${transport}.sdkconfig`), "utf8").replace(/^CONFIG_PROV_SECURITY_VERSION=.*$/m, "") + "\nCONFIG_PROV_SECURITY_VERSION=0\n");
        await build({ board: "esp32", config: cfg, out: (file = `dist/bench/${transport}-sec0.js`) });
      }
      const plan = sessionPlan(pop, transport, { sample: false, quit: true, security: sec });
      runs.push({ name: `${transport === "ble" ? "BLE" : "SoftAP"} Security ${sec}${sec ? " (JS X25519 ×2)" : ""}`, check: plan.check,
        src: sessionScript({ shims, driver: plan.driver, ble: transport === "ble", storePop, bundle: fs.readFileSync(path.join(ROOT, file), "latin1") }) });
    }
    runs.push({ name: "accelerated X25519 (RAM stand-in)", src: fs.readFileSync(mpiF, "utf8"), extra: ramStandIn, check: (o) => (/DONE/.test(o) ? undefined : "did not finish") });
    for (const r of await predictSessions(interp, runs, table)) {
      const ok = Math.abs(r.error) <= 0.15;
      if (!ok) process.exitCode = 1;
      say(`  ${r.name.padEnd(36)} predicted ${(r.predicted / 1e9).toFixed(3)} G, measured ${(r.measured / 1e9).toFixed(3)} G: ${(100 * r.error).toFixed(1)}%   (goal ±15%: ${ok ? "ok" : "OUT"})`);
    }
  }
}

// ---- Security 2 (test-host/bench-sec2.ts) ----------------------------------------------------------------
await benchSec2({ root: ROOT, say, sec1Bundle: SOFTAP, espruino: sec2Espruino });
