// The committed cost table (test-host/sim/cost-table.ts) is what the bench's method derives from the measurements
// the table records: the calibration scripts run through today's model (test-host/sim/cost.ts, the simulator's
// built-ins) and the coefficients re-derived (test-host/bench-calibrate.ts deriveCosts). A change to the model's
// counting, to a calibration script or to the derivation without a new `ESPRUINO=… npm run bench` fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CALIBRATION, COST } from "../sim/cost-table";
import { calibrationScripts, deriveCosts, modelCounts, modelRun } from "../bench-calibrate";

test("the cost table is the bench's derivation from the calibration run it names", () => {
  assert.match(CALIBRATION.date, /^\d{4}-\d{2}-\d{2}$/, "the calibration run is dated");
  assert.ok(CALIBRATION.interpreter && CALIBRATION.command, "and names its interpreter and command");
  assert.deepEqual(Object.keys(CALIBRATION.measured).sort(), Object.keys(calibrationScripts("model")).sort(), "every calibration script measured");
  assert.deepEqual(deriveCosts(CALIBRATION.measured, modelCounts()), COST);
});

test("the model counts tokens as the interpreter lexes and executes them", () => {
  const c = modelCounts();
  // An untaken branch is lexed, not executed; a call adds a call.
  assert.ok(c.skip!.k.l > 2 * c.stmt!.k.l && c.skip!.k.x < c.stmt!.k.x);
  assert.equal(c.call!.k.c, 2001);
  // Built-ins are counted per call and per unit of work.
  assert.deepEqual(c["convolve-8"]!.natives.convolve, { calls: 600, units: 600 * 8 });
});

test("of ?:, && and || only the branch taken counts as executed; the other is lexed", () => {
  const run = (a: number, e: string) => modelRun(`var a=${a},b;b=${e};`).k;
  // a+1+2+3 is 7 tokens; the other branch of ?: is 1, that of && and || none.
  for (const [e, d] of [["a&&a+1+2+3", 7], ["a||a+1+2+3", -7], ["a?a+1+2+3:1", 6]] as const) {
    const [k0, k1] = [run(0, e), run(1, e)];
    assert.equal(k0.l, k1.l, e);
    assert.equal(k1.x - k0.x, d, e);
  }
});
