// The differential check without the interpreter (CI has none): its comparison logic, and the simulator replaying
// every request sequence of `npm run differential` against the outcomes one run recorded from Espruino's Linux
// build with its own http module (test-host/fixtures/differential/interpreter.json; docs/differential.md).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "../../tools/build.mjs";
import { CaseOutcome, EXPLAINED, compareCase, compareRuns, groups, securityZero, splitResponse } from "../differential/plan";
import { runGroup } from "../differential/session";
import { simBoard } from "../differential/sim-wire";
import { espruinoInt } from "../sim/http";
import { SOFTAP_BUNDLE } from "./helpers";
import { oneLine, run } from "./cli-harness";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURE = "test-host/fixtures/differential/interpreter.json";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "differential-"));
let SEC0 = "";
before(async () => {
  const cfg = path.join(tmp, "sec0.sdkconfig");
  fs.writeFileSync(cfg, securityZero(fs.readFileSync(path.join(ROOT, "test-host/configs/softap.sdkconfig"), "utf8")));
  SEC0 = path.join(tmp, "sec0.js");
  await build({ board: "esp32", config: cfg, out: SEC0 });
});

const ok = (body: string, closed = true): CaseOutcome["conns"][number] => ({ received: "HTTP/1.1 200 OK\r\nServer: Espruino 2v29\r\nConnection: close\r\n\r\n" + body, closed });

test("comparison: identical outcomes give nothing; status, header, body, close and refusal each give one line", () => {
  const a: CaseOutcome = { name: "x", conns: [ok("hi")] };
  assert.deepEqual(compareCase(a, a), []);
  const other = (c: CaseOutcome["conns"][number]) => compareCase(a, { name: "x", conns: [c] });
  assert.match(other({ ...ok("hi"), received: ok("hi").received.replace("200", "500") }).join(), /^status line: interpreter "HTTP\/1.1 200 OK", simulator "HTTP\/1.1 500 OK"$/);
  assert.match(other({ ...ok("hi"), received: ok("hi").received.replace("close", "keep-alive") }).join(), /^headers: /);
  assert.match(other(ok("ho")).join(), /^body: interpreter "hi", simulator "ho"$/);
  assert.match(other(ok("hi", false)).join(), /^closed by the board: interpreter yes, simulator no$/);
  assert.match(other({ refused: "ECONNREFUSED", received: "", closed: false }).join(), /^refused: interpreter no, simulator ECONNREFUSED$/);
  assert.deepEqual(splitResponse(""), { status: "(nothing)", headers: [], body: "" });
  assert.match(splitResponse("HTTP/1.1 200").status, /^\(incomplete\)/);
});

test("comparison: only the flood's connections past lwIP's sockets are explained; a case missing on either side is not", () => {
  const flood = (n: number, refusedFrom: number): CaseOutcome => ({
    name: "flood: 12 connections at once",
    conns: Array.from({ length: n }, (_, i) => (i + 1 >= refusedFrom ? { refused: "ECONNREFUSED", received: "", closed: false } : ok("v"))),
  });
  const r1 = compareRuns([flood(12, 99)], [flood(12, 9)]);
  assert.deepEqual(r1.unexplained, []);
  assert.equal(r1.explained.length, 4);
  assert.ok(r1.explained.every((l) => l.includes(EXPLAINED[0]!.why)));
  // Refused from the 8th on: one more than lwIP's limit allows is a simulator bug.
  assert.deepEqual(compareRuns([flood(12, 99)], [flood(12, 8)]).unexplained, ["flood: 12 connections at once: connection 8: refused: interpreter no, simulator ECONNREFUSED"]);
  // The same refusal outside a flood is not explained.
  const one = (refused?: string): CaseOutcome => ({ name: "proto-ver", conns: [refused ? { refused, received: "", closed: false } : ok("v")] });
  assert.equal(compareRuns([one()], [one("ECONNREFUSED")]).unexplained.length, 1);
  assert.deepEqual(compareRuns([one()], []).unexplained, ["proto-ver: not run on the simulator"]);
  assert.deepEqual(compareRuns([], [one()]).unexplained, ["proto-ver: not run in the interpreter"]);
});

test("Content-Length as Espruino reads it (jsvGetInteger of a string: src/jsvar.c, src/jsutils.c)", () => {
  // The values the differential run confirmed through the server's wait for a body.
  for (const [s, n] of [["4", 4], ["abc", 0], ["-4", -4], ["+4", 4], ["0x10", 16], ["4abc", 0], ["4.5", 4], ["010", 8], ["1e1", 0], ["0000000004", 4], ["4 ", 0], ["08", 8], ["0", 0]] as const)
    assert.equal(espruinoInt(s), n, JSON.stringify(s));
});

test("the simulator answers every request sequence as Espruino's own HTTP server did in the recorded run", async () => {
  const rec = JSON.parse(fs.readFileSync(path.join(ROOT, FIXTURE), "utf8")) as Record<string, CaseOutcome[]>;
  const gs = groups();
  assert.deepEqual(Object.keys(rec), gs.map((g) => g.name), `the recording is for this list of groups (re-record: npm run differential -- --record ${FIXTURE})`);
  for (const g of gs) {
    // Slow-down 100 as the other simulator tests: the firmware's device time is small against every case's margins.
    const { d, wire } = simBoard(g.secVer ? SOFTAP_BUNDLE : SEC0, g.secVer, { slowdown: 0.05 });
    const sim = await runGroup(wire, g, "abcd1234");
    if (g.session) assert.match(sim.result!, /^Connected/, g.name);
    assert.equal(d.rngReadsRadioOff, 0);
    const cmp = compareRuns(rec[g.name]!, sim.out);
    assert.deepEqual(cmp.unexplained, [], g.name);
    assert.equal(cmp.explained.length, g.cases.some((c) => c.name.startsWith("flood")) ? 4 : 0);
  }
});

test("npm run differential without an interpreter, or with a bad argument: one line, exit 2, nothing built", async () => {
  const diff = (...a: string[]) => run("env", [...a, process.execPath, "--import", "tsx", "test-host/differential.ts"]);
  let r = await diff("-u", "ESPRUINO");
  assert.equal(r.code, 2);
  oneLine(r, /^differential: set ESPRUINO=\/path\/to\/espruino, an Espruino Linux build with the http module \(docs\/differential\.md\)/);
  r = await diff("ESPRUINO=/nonexistent/espruino");
  assert.equal(r.code, 2);
  oneLine(r, /^differential: ESPRUINO=\/nonexistent\/espruino does not exist/);
  r = await run(process.execPath, ["--import", "tsx", "test-host/differential.ts", "--bogus"]);
  assert.equal(r.code, 2);
  oneLine(r, /^differential: unknown argument '--bogus' \(npm run differential -- --help\)/);
  assert.doesNotMatch(r.out, /built/);
});
