/**
 * The user's commands as subprocesses for tests: run one and collect its output, start `npm run sim` on free
 * ports, assert a one-line failure. Every process started here is killed when the test file ends.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-"));
const procs = new Set<ChildProcess>();
after(() => { for (const p of procs) p.kill("SIGKILL"); });

export interface Run { code: number | null; signal: NodeJS.Signals | null; out: string; err: string; ms: number }
export function run(cmd: string, args: string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now(), p = spawn(cmd, args, { cwd: o.cwd ?? ROOT });
    procs.add(p);
    let out = "", err = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { err += d; });
    const t = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    p.on("close", (code, signal) => { clearTimeout(t); procs.delete(p); resolve({ code, signal, out, err, ms: Date.now() - t0 }); });
  });
}
/** A TypeScript entry point of the repo under node + tsx (what the npm scripts run). */
export const node = (...args: string[]) => run(process.execPath, ["--import", "tsx", ...args]);

/** A one-line message on stderr, no stack trace. */
export function oneLine(r: Run, re: RegExp) {
  assert.match(r.err, re);
  assert.equal(r.err.trim().split("\n").length, 1, `one line expected:\n${r.err}`);
  assert.doesNotMatch(r.err, /^\s+at /m, "no stack trace");
}

/** A simulated board's Storage holding a bundle as .boot0 (what npm run flash would have written). */
export function flashWith(bundle: string): string {
  const flash = path.join(tmp, `flash-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(flash, JSON.stringify({ ".boot0": fs.readFileSync(path.resolve(ROOT, bundle)).toString("base64") }));
  return flash;
}

export interface Sim { proc: ChildProcess; port: number; httpPort: number; out: () => string; err: () => string; flash: string; stop: () => void }
/**
 * sim-cli with the virtual central and the board's HTTP server on free ports (and a flash file of its own unless
 * --flash is given), at --slowdown 0.05 unless args say otherwise; resolves once they listen.
 */
export function sim(args: string[] = [], o: { cwd?: string } = {}): Promise<Sim> {
  const given = args.indexOf("--flash");
  const flash = given >= 0 ? args[given + 1]! : path.join(tmp, `flash-${Math.random().toString(36).slice(2)}.json`);
  const cli = ["--gatt-port", "0", "--http-port", "0", ...(given >= 0 ? [] : ["--flash", flash]), ...(args.includes("--slowdown") ? [] : ["--slowdown", "0.05"]), ...args];
  const p = spawn(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", ...cli], { cwd: o.cwd ?? ROOT });
  procs.add(p);
  let out = "", err = "";
  p.stdout!.on("data", (d) => { out += d; });
  return new Promise((resolve, reject) => {
    p.stderr!.on("data", (d) => {
      err += d;
      const m = /virtual central on 127\.0\.0\.1:(\d+)/.exec(err), h = /HTTP server .* on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m && h) resolve({ proc: p, port: Number(m[1]), httpPort: Number(h[1]), out: () => out, err: () => err, flash, stop: () => { p.kill("SIGKILL"); procs.delete(p); } });
    });
    p.on("close", (c) => reject(new Error(`sim exited ${c}: ${err}`)));
  });
}
