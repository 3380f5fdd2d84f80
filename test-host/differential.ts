// npm run differential — the simulator's HTTP server checked against Espruino's own (docs/differential.md).
//
// With ESPRUINO=/path/to/espruino (an Espruino Linux build WITH the http module, outside this repository): the
// SoftAP bundle runs in it from Storage, serving a real TCP port with Espruino's own `http`, and in the simulator;
// the same request sequences go to both (transport edge cases, Security 1 and 0 sessions) and every status line,
// header, body and close is compared. Exits 1 with one line per unexplained difference.
import fs from "node:fs";
import path from "node:path";
import { build } from "../tools/build.mjs";
import { CaseOutcome, compareRuns, groups, securityZero } from "./differential/plan";
import { runGroup } from "./differential/session";
import { simBoard } from "./differential/sim-wire";
import { espruinoBoard } from "./differential/espruino-wire";

const HELP = `usage: ESPRUINO=/path/to/espruino npm run differential [-- --record FILE]
Runs the SoftAP build (test-host/configs/softap.sdkconfig, and the same with Security 0) in Espruino's Linux
build, with its own http module on a real TCP port, and in the simulator; replays the same requests against both
(every bad input the HTTP transport handles, bodies split across TCP segments, slow and silent clients, a flood of
connections, whole Security 1 and 0 sessions) and compares status lines, headers, bodies and closes. Prints the
JsVar peak of the Security 1 session in the interpreter. Exits 0 when every difference is explained
(docs/differential.md), 1 with one line per unexplained difference. ESPRUINO must name a build with the http
module (about 3 minutes).
  --record FILE   also write the interpreter's outcomes as JSON (test-host/fixtures/differential/ keeps one run)`;

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) { console.log(HELP); process.exit(0); }
let record: string | undefined;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--record" && args[i + 1] && !args[i + 1]!.startsWith("-")) record = args[++i];
  else { console.error(`differential: unknown argument '${args[i]}'${args[i] === "--record" ? " (--record needs a FILE)" : ""} (npm run differential -- --help)`); process.exit(2); }
}
const E = process.env.ESPRUINO;
if (!E) { console.error("differential: set ESPRUINO=/path/to/espruino, an Espruino Linux build with the http module (docs/differential.md)"); process.exit(2); }
if (!fs.existsSync(E)) { console.error(`differential: ESPRUINO=${E} does not exist`); process.exit(2); }

const ROOT = path.resolve(import.meta.dirname, "..");
const DIR = "dist/differential";
/** The SoftAP build (fixed PoP) the tests use, and the same with Security 0. */
const SEC1 = `${DIR}/softap.js`, SEC0 = `${DIR}/softap-sec0.js`, POP = "abcd1234";
fs.mkdirSync(path.join(ROOT, DIR), { recursive: true });
const cfg = fs.readFileSync(path.join(ROOT, "test-host/configs/softap.sdkconfig"), "utf8");
if (!cfg.includes(`CONFIG_PROV_POP="${POP}"`)) { console.error(`differential: test-host/configs/softap.sdkconfig no longer has the PoP ${POP} this check uses`); process.exit(2); }
fs.writeFileSync(path.join(ROOT, DIR, "softap-sec0.sdkconfig"), securityZero(cfg));
try {
  await build({ board: "esp32", config: "test-host/configs/softap.sdkconfig", out: SEC1 });
  await build({ board: "esp32", config: `${DIR}/softap-sec0.sdkconfig`, out: SEC0 });
} catch (e) {
  console.error(`differential: the build failed: ${(e as Error).message}`);
  process.exit(1);
}

let failed = false;
const recorded: Record<string, CaseOutcome[]> = {};
const lines: string[] = [];
for (const g of groups()) {
  const bundle = path.join(ROOT, g.secVer ? SEC1 : SEC0);
  const eb = await espruinoBoard(E, bundle, g.secVer).catch((e: Error) => e);
  if (eb instanceof Error) { console.error(`differential: ${g.name}: ${eb.message}`); process.exit(1); }
  let real: Awaited<ReturnType<typeof runGroup>>;
  try {
    // The JsVar peak of the Security 1 session, over Espruino's own HTTP server.
    real = await runGroup(eb.wire, g, POP, g.session && g.secVer === 1 ? { start: eb.peakStart, stop: eb.peakStop } : undefined);
  } finally {
    await eb.stop();
  }
  const { d, wire } = simBoard(bundle, g.secVer);
  const sim = await runGroup(wire, g, POP);
  recorded[g.name] = real.out;
  const cmp = compareRuns(real.out, sim.out);
  console.log(`== ${g.name}: ${real.out.length} exchanges, ${cmp.unexplained.length} unexplained difference(s)`);
  if (real.result) console.log(`session: interpreter ${real.result}, simulator ${sim.result}`);
  if (!Number.isNaN(real.jsvars)) console.log(`JsVars of the Security 1 session in the interpreter over Espruino's own HTTP server (interpreter + firmware, sampled every ms as the bench does): peak ${real.jsvars}`);
  if (d.rngReadsRadioOff) lines.push(`${g.name}: the simulated board read the RNG ${d.rngReadsRadioOff} times with the radio off (not the interpreter's stream)`);
  for (const x of cmp.explained) console.log("explained  " + x);
  lines.push(...cmp.unexplained.map((x) => `${g.name}: ${x}`));
  if (real.result && !/^Connected/.test(real.result)) lines.push(`${g.name}: the session failed in the interpreter: ${real.result}`);
}
if (record) fs.writeFileSync(record, JSON.stringify(recorded, null, 1) + "\n");
for (const l of lines) { console.log("DIFFERENT  " + l); failed = true; }
console.log(failed ? `${lines.length} unexplained difference(s)` : "no unexplained difference");
process.exit(failed ? 1 : 0);
