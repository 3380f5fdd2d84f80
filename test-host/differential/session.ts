/**
 * Whole provisioning sessions for the differential check: esp_prov's exchanges (test-host/client/esp-prov.ts,
 * with a fixed client key) over a wire, each exchange a case of its own on a fresh connection, as esp_prov's
 * connections to Espruino's server go (it closes each after its response). Both sides draw their random numbers
 * from the same generator (docs/differential.md), so the encrypted bodies and the session cookies compare byte
 * for byte.
 */
import { CookieJar, httpTransport, HttpError } from "../client/http-transport";
import { provision } from "../client/esp-prov";
import { CaseOutcome, Group, Wire, inSessionCases, runCase, single } from "./plan";

export const CLIENT_PRIV = new Uint8Array(32).fill(0x42);
export const SSID = "myssid", PASSPHRASE = "mypassword";

/**
 * Runs one esp_prov session (Security `secVer`) on the wire; every exchange's outcome is appended to `out`.
 * Returns its result and the session's cookie.
 */
export async function session(w: Wire, secVer: 0 | 1, pop: string, out: CaseOutcome[]): Promise<{ result: string; cookie?: string }> {
  let n = 0;
  const jar: CookieJar = {};
  const t = httpTransport(async (req, timeoutMs) => {
    const ep = /^POST \/(\S+)/.exec(req.toString("latin1"))?.[1] ?? "?";
    const o = await runCase(w, single(`security ${secVer} session: exchange ${++n} (${ep})`, [req.toString("latin1")], { waitMs: timeoutMs }));
    out.push(o);
    if (!o.conns[0]!.closed) throw new HttpError(`no complete reply to /${ep}`);
    return Buffer.from(o.conns[0]!.received, "latin1");
  }, { jar });
  try {
    const r = await provision(t, { secVer, pop, ssid: SSID, passphrase: PASSPHRASE, clientPriv: CLIENT_PRIV, sleep: (ms) => w.sleep(ms) });
    return { result: r.ok ? "Connected " + r.ip : "FAILED " + r.state, cookie: jar.cookie };
  } catch (e) {
    return { result: "FAILED: " + (e as Error).message };
  }
}

/** Runs one group on a fresh board: its cases, its session (sampling the JsVar peak around it if asked), the rest. */
export async function runGroup(w: Wire, g: Group, pop: string, peak?: { start(): void; stop(): Promise<number> }) {
  const out: CaseOutcome[] = [];
  let result: string | undefined, jsvars = NaN, after = g.after;
  for (const c of g.cases) out.push(await runCase(w, c));
  if (g.session) {
    peak?.start();
    const s = await session(w, g.secVer, pop, out);
    if (peak) jsvars = await peak.stop();
    result = s.result;
    if (s.cookie) after = [...inSessionCases(g.secVer, s.cookie), ...after];
  }
  for (const c of after) out.push(await runCase(w, c));
  return { out, result, jsvars };
}
