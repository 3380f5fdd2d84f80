/**
 * Security 2's verifier for the board's own random PoP (src/prov/pop.ts): made on the board the first time it
 * is needed — a salt from the hardware RNG (so only once a radio runs, as the PoP), v = g^x on the RSA block,
 * k·v mod N — and kept in flash as a power-cut-safe record, so later boots need no exponentiation.
 * A fixed PoP needs none of this: the build makes its salt and verifier (tools/build-config.mjs).
 * The record names the username and PoP it was made for by 8 bytes of H(salt | x), so a new PoP
 * (prov.newPop(), npm run flash -- --erase-pop) or username gets a new verifier instead of a stale one.
 */
import { concat, fromHex, toHex } from "../core/bytes";
import { readRecord, writeRecord } from "../core/record";
import { Logger } from "../core/log";
import { KvPort } from "../ports/ports";
import { BigOps, Hash, makeVerifier, srpX, Verifier } from "../protocomm/security2";

export var VERIFIER_SLOTS = ["prov.srp.a", "prov.srp.b"];

function tag(h: Hash, salt: Uint8Array, user: string, pop: string): string {
  return toHex(h(concat([salt, srpX(h, salt, user, pop)])).subarray(0, 8));
}

/** The verifier provider for security2's options: the saved one if it is this PoP's, else a new one (saved). */
export function boardVerifier(kv: KvPort, ops: BigOps, h: Hash, random: (n: number) => Uint8Array, user: string, pop: string, log: Logger) {
  var ready: Verifier | undefined;
  return function (cb: (v: Verifier) => void, fail: (why: string) => void) {
    if (ready) return cb(ready);
    var r = readRecord(kv, VERIFIER_SLOTS), p = r ? r.body.split(":") : [];
    if (p.length === 4 && tag(h, fromHex(p[1]!), user, pop) === p[0]) {
      ready = { salt: fromHex(p[1]!), v: fromHex(p[2]!), kv: fromHex(p[3]!) };
      return cb(ready);
    }
    var salt = random(16);
    salt[0] = salt[0]! | 1; // no leading zero byte: esp_prov hashes the salt as an integer's bytes (srp6a.py)
    makeVerifier(ops, h, salt, user, pop, function (v) {
      writeRecord(kv, VERIFIER_SLOTS, tag(h, salt, user, pop) + ":" + toHex(salt) + ":" + toHex(v.v) + ":" + toHex(v.kv));
      log.i("Security 2 verifier made for this board's PoP and saved");
      cb((ready = v));
    }, fail);
  };
}
