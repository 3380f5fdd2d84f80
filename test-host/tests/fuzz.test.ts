// CI slice of `npm run fuzz`: every endpoint (security 0 and 1 builds, BLE and HTTP) for 60-300 seeded frames with
// all the per-frame properties, an honest client provisioning afterwards, and the corpus of every case
// that once failed (test-host/fuzz-corpus/*.json) replayed on a fresh device.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { bundleKey, bundles, CorpusEntry, fuzzTarget, HTTP_TARGETS, mutate, replay, TARGETS, targetName } from "../fuzz/fuzz";
import { fuzzSec2, sec2Bundles, Sec2Transport } from "../fuzz/sec2";

let b: Record<string, string>, b2: Record<Sec2Transport, string>;
before(async () => { b = await bundles(); b2 = await sec2Bundles(); });

for (const t of [...TARGETS, ...HTTP_TARGETS]) {
  // Every failed frame under security 1 starts a new session (two X25519s on the device): fewer frames
  // there; prov-scan, prov-ctrl and custom-data share prov-config's session code, so shorter slices.
  const first = ["proto-ver", "prov-session", "prov-config"].includes(t.endpoint);
  const frames = t.sec === 1 && (t.transport === "http" || !first) ? 60 : first ? 300 : 150;
  test(`fuzz slice ${targetName(t)}: ${frames} frames (seed 17), no property violated, provisionable afterwards`, async () => {
    const s = await fuzzTarget(b[bundleKey(t)]!, t, { seed: 17, frames, chunk: frames === 300 ? 100 : 20 });
    assert.ok(s.frames >= frames);
    // In a security 1 session custom-data answers any bytes (CTR has no integrity): it drops only after a rare reconnect.
    if (t.endpoint !== "proto-ver" && !(t.endpoint === "custom-data" && t.sec === 1)) assert.ok(s.drops > 0, "the slice includes frames that end the session");
  });
}

for (const tr of ["ble", "http"] as Sec2Transport[]) {
  test(`fuzz slice prov-session+custom-data/sec2${tr === "http" ? "/http" : ""}: 45 frames (seed 17), hostile A, proofs and GCM payloads, provisionable afterwards`, async () => {
    const s = await fuzzSec2(b2[tr], tr, { seed: 17, frames: 45 });
    assert.ok(s.frames >= 45);
    assert.ok(s.drops > 0 && s.sessions > 0, `refused frames (${s.drops}) and established sessions (${s.sessions})`);
  });
}

const dir = path.join(import.meta.dirname, "../fuzz-corpus");
for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".json"))) {
  test(`fuzz corpus: ${f}`, async () => {
    const c: CorpusEntry = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    const s = await replay(b[bundleKey(c.target)]!, c);
    assert.equal(s.frames, c.steps.filter((x) => x.t !== "reconnect").length);
  });
}

test("mutations keep frames within one ATT PDU and never empty", () => {
  const base = Uint8Array.of(8, 2, 0x62, 0);
  assert.deepEqual(Array.from(mutate(base, [[3, 0, 7, 8]], 497)), [7]);
  assert.equal(mutate(base, [[2, 1, 1, 8], [5, 0, 0, 8]], 6).length, 6);
  assert.deepEqual(Array.from(mutate(base, [[0, 1, 1, 1]], 497)), [8, 0, 0x62, 0]);
});
