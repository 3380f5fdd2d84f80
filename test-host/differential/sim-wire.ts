/**
 * The simulator's side of the differential check: the SoftAP bundle on a SimDevice, its clients on the modelled
 * HTTP server (test-host/sim/http.ts), time in device ms. The RNG register gives the same words as the
 * interpreter's stand-in (test-host/bench-shims.js: x ← 69069·x + 1 from 0x12345678), so both boards make the same
 * key pairs, randoms and session ids.
 */
import { SimDevice, loadBundle } from "../sim/device";
import { DEFAULT_WORLD } from "../sim/wifi";
import { PAGE_FILE } from "../../src/transport/web-portal";
import { RNG_SEED, lcg } from "../bench-session";
import { Wire, WireConn } from "./plan";

/** A deterministic stand-in for the provisioning page (gzip bytes on the board): 3,000 bytes, several 'drain's. */
export function testPage(): Buffer {
  return Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + (i >> 8)) & 255));
}

/**
 * Boots the bundle (page in Storage) until its device key pair is ready (Security 1) or the AP is up. At the
 * default slow-down unless told (the tests run it faster, for wider margins on a loaded host).
 */
export function simBoard(bundle: string, secVer: 0 | 1, o: { slowdown?: number } = {}): { d: SimDevice; wire: Wire } {
  const d = new SimDevice({ world: DEFAULT_WORLD, slowdown: o.slowdown });
  const next = lcg(RNG_SEED); // the stand-in's peek32 stream (bench-shims.js __rng)
  d.rngWord = () => { d.rngReads++; return next(); };
  d.install(loadBundle(bundle));
  d.flash.writeFile(PAGE_FILE, testPage());
  d.boot();
  if (!d.waitFor(secVer ? /Device key pair ready/ : /SoftAP started/, 120000)) throw new Error("the simulated board did not get ready:\n" + d.lines().slice(-10).join("\n"));
  d.run(1000);
  return { d, wire: simWire(d) };
}

export function simWire(d: SimDevice): Wire {
  return {
    open(): WireConn {
      let s: ReturnType<SimDevice["http"]["connect"]> | undefined, refused: string | undefined;
      try { s = d.http.connect(80); } catch (e) { refused = /ECONNREFUSED/.test((e as Error).message) ? "ECONNREFUSED" : (e as Error).message; }
      return {
        refused: () => refused,
        write: (b) => s!.write(b),
        end: () => s!.end(),
        received: () => s ? s.received : Buffer.alloc(0),
        closedByBoard: () => !!s?.closedByDevice,
      };
    },
    sleep: async (ms) => d.run(ms),
    until: async (cond, ms) => d.sched.runWhile(cond, ms),
  };
}
