/**
 * npm run fuzz -- [--seed N] [--frames N] [--endpoint NAME] [--sec 0|1|2]
 *                 [--transport ble|http] [--time-limit SECONDS]
 * Fuzzes every endpoint (security 0 and 1 builds, over BLE and SoftAP/HTTP) and Security 2's sessions and encrypted
 * payloads (sec2.ts) through the shipped bundle in the simulator; prints frames, drops and frames/s per target;
 * exits 1 with the failing case's frames on a property violation.
 */
import { bundleKey, bundles, ENDPOINTS, FuzzFailure, FuzzStats, fuzzTarget, HTTP_TARGETS, TARGETS, targetName } from "./fuzz";
import { fuzzSec2, sec2Bundles, Sec2Transport } from "./sec2";

const HELP = `usage: npm run fuzz -- [--seed N] [--frames N] [--endpoint NAME] [--sec 0|1|2] [--transport ble|http] [--time-limit S]
  --seed N        fast-check seed (default 1); the same seed replays the same run
  --frames N      fuzzed frames per target (endpoint, security scheme, transport; default 100000)
  --endpoint NAME ${ENDPOINTS.join(", ")} (default: all)
  --sec 0|1|2     only that security scheme's build (default: all three; 2 fuzzes prov-session and the
                  encrypted custom-data: hostile A, proofs, replayed/truncated/bit-flipped AES-GCM payloads)
  --transport T   ble (the virtual central, BLE builds) or http (the SoftAP builds' HTTP server); default both
  --time-limit S  stop each endpoint after S seconds (frames/s and the projected time are printed)`;

const a = process.argv.slice(2), o: Record<string, string> = {};
for (let i = 0; i < a.length; i++) {
  if (a[i] === "--help" || a[i] === "-h") { console.log(HELP); process.exit(0); }
  const m = /^--(seed|frames|endpoint|sec|transport|time-limit)$/.exec(a[i]!);
  if (!m || a[i + 1] === undefined) { console.error(`fuzz: unknown or incomplete argument '${a[i]}'\n${HELP}`); process.exit(2); }
  o[m[1]!] = a[++i]!;
}
const seed = Number(o.seed ?? 1), frames = Number(o.frames ?? 100000), limit = o["time-limit"] === undefined ? undefined : Number(o["time-limit"]) * 1000;
const wantTransport = (t: string) => o.transport === undefined || t === o.transport;
const sec2Targets = (["ble", "http"] as Sec2Transport[]).filter((t) => (o.sec === undefined || o.sec === "2") && wantTransport(t) &&
  (!o.endpoint || o.endpoint === "prov-session" || o.endpoint === "custom-data"));
const targets = [...TARGETS, ...HTTP_TARGETS].filter((t) => (!o.endpoint || t.endpoint === o.endpoint) && (o.sec === undefined || t.sec === Number(o.sec)) &&
  (o.transport === undefined || (t.transport || "ble") === o.transport));
if ((!targets.length && !sec2Targets.length) || !Number.isInteger(seed) || !(frames > 0) || (limit !== undefined && !(limit > 0))) {
  console.error(`fuzz: nothing to run: check --endpoint (${ENDPOINTS.join(", ")}), --sec (0, 1 or 2), --transport (ble or http), --seed, --frames and --time-limit\n${HELP}`);
  process.exit(2);
}
let failed = false;
console.log(`fuzz: seed ${seed}, ${frames} frames per endpoint${limit ? `, at most ${limit / 1000} s each` : ""}`);
async function report(name: string, secure: boolean, run: () => Promise<FuzzStats>) {
  try {
    const s = await run();
    const rate = s.frames / (s.ms / 1000);
    console.log(`${name}: ${s.frames} frames in ${(s.ms / 1000).toFixed(1)} s = ${Math.round(rate)} frames/s; ${s.drops} drops, ` +
      `${s.reconnects} reconnects, ${s.protocolFrames} handshake frames, ${s.cases} cases${secure ? `, ${s.sessions} sessions established` : ""}; 1,000,000 frames ≈ ${(1e6 / rate / 60).toFixed(1)} min; ` +
      `honest client provisioned afterwards; 0 failures`);
  } catch (e) {
    failed = true;
    console.error(e instanceof FuzzFailure ? "FAIL " + e.message : e);
  }
}
if (targets.length) {
  const b = await bundles();
  for (const t of targets) await report(targetName(t), !!t.sec, () => fuzzTarget(b[bundleKey(t)]!, t, { seed, frames, timeLimitMs: limit, print: (l) => console.log(l) }));
}
if (sec2Targets.length) {
  const b2 = await sec2Bundles();
  for (const t of sec2Targets) await report(`prov-session+custom-data/sec2${t === "http" ? "/http" : ""}`, true, () => fuzzSec2(b2[t], t, { seed, frames, timeLimitMs: limit }));
}
process.exit(failed ? 1 : 0);
