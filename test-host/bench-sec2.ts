/**
 * npm run bench's Security 2 section: bundle growth, a whole Security 2 session through the simulator at the
 * default slow-down, and with ESPRUINO (an Espruino interpreter built for Linux) and valgrind the interpreter's
 * instructions for SessionCmd0 → SessionResp0 and SessionCmd1 → SessionResp1 and the JsVars a session needs.
 *
 * In the interpreter the protocol core (security2.ts with its SHA-512, AES-GCM and codec, bundled and minified as
 * the firmware is) runs behind protocomm with an "oracle" for the big numbers: the host knows b and a, so it
 * computes every 3072-bit result beforehand and the oracle hands them over at no cost. The RSA block's own work
 * (driving MODEXP/MODMULT from JS, and the hardware time) is counted separately on the driver
 * (src/crypto/esp32-bignum.ts) with the peripheral stood in by RAM, as the X25519 section does, and added.
 */
import fs from "node:fs";
import path from "node:path";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { minify } from "terser";
import { MINIFY, build } from "../tools/build.mjs";
import { simHttpSession } from "./bench-session";
import { G, H, modPow, N, N_LEN, toBig, toBytes } from "../tools/srp.mjs";
import { Srp6aClient, gcmSession } from "./client/srp6a";
import { encode } from "../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload } from "../src/proto/schema.gen";
import { SimDevice, loadBundle } from "./sim/device";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { WORLD } from "./tests/helpers";
import { modexpMs, MULT_US } from "./sim/rsa";

export interface Sec2BenchIo {
  root: string;
  say: (s?: string) => void;
  /** The Security 1 SoftAP build measured by the rest of the bench (bytes compared against). */
  sec1Bundle: string;
  /** With ESPRUINO: runs a script file in the interpreter / counts its instructions (callgrind); a scratch dir. */
  espruino?: { run(file: string): string; instr(file: string): number; tmp: string; budget: number; bootJsVars(bundle: string): number };
}

const CONFIG = "test-host/configs/sec2.sdkconfig", OUT = "dist/bench/sec2.js", PWD = "abcd1234", USER = "wifiprov";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export async function benchSec2(io: Sec2BenchIo): Promise<void> {
  const { say, root } = io;
  await build({ board: "esp32", config: CONFIG, out: OUT });
  const s1 = fs.statSync(path.join(root, io.sec1Bundle)).size, s2 = fs.statSync(path.join(root, OUT)).size;
  say("\n== Security 2 (SRP6a-3072 + AES-256-GCM; " + CONFIG + ")");
  say(`bundle                       ${s2.toLocaleString("en")} B minified against ${s1.toLocaleString("en")} B for the Security 1 build: +${(s2 - s1).toLocaleString("en")} B`);

  // ---- a whole session through the simulator ----
  const d = new SimDevice({ world: WORLD, slowdown: DEFAULT_SLOWDOWN });
  d.install(loadBundle(OUT));
  d.boot();
  d.run(60000);
  const ready = d.lines().find((l) => /security2: (Device public key ready|Security 2 sessions refused)/.test(l)) ?? "no public key after 60 s";
  const { res, waits } = await simHttpSession(d, { secVer: 2, sec2User: USER, sec2Pwd: PWD });
  say(`simulator, default timing   ${res}; at boot: ${ready.replace(/^.*security2: /, "")}`);
  say(`  device time per reply      ${waits.join(", ")}  (iOS gives up after 30 s without data, esp_prov after 60 s)`);
  if (!/^Connected/.test(res)) process.exitCode = 1;

  const E = io.espruino;
  if (!E) return;
  // ---- the protocol core inside the interpreter, big numbers from an oracle ----
  // The build's salt and verifier, from its unminified twin (build-config's SEC2_VERIFIER).
  const m = /function SEC2_VERIFIER\(\) \{\s*return (\{.*?\});/s.exec(fs.readFileSync(path.join(root, OUT.replace(/\.js$/, ".debug.js")), "utf8"));
  const ver = m ? (JSON.parse(m[1]!) as { salt: string; v: string; kv: string }) : undefined;
  if (!ver) { say("  (the build's salt and verifier not found in its debug bundle: no interpreter figures)"); process.exitCode = 1; return; }
  const v = toBig(Buffer.from(ver.v, "hex")), kv = toBig(Buffer.from(ver.kv, "hex"));
  // The device's random draws in order: b (32 bytes), the nonce's 8 bytes; the client's a is its own.
  const b = toBig(Buffer.alloc(32, 0x5a)), client = new Srp6aClient(USER, PWD);
  const A = client.A, gb = modPow(G, b, N), B = (kv + gb) % N;
  const u = toBig(H(toBytes(A, N_LEN), toBytes(B, N_LEN))), vu = modPow(v, u, N), avu = (A % N) * vu % N, S = modPow(avu, b, N);
  const oracle = [gb, vu, avu, S].map((x) => hex(toBytes(x, N_LEN)));
  const M = client.challenge(Buffer.from(ver.salt, "hex"), toBytes(B));
  const nonce = Buffer.concat([Buffer.alloc(8, 0x5a), Buffer.from([0, 0, 0, 1])]);
  const g = gcmSession(client.K!, nonce, 1);
  const cfgMsg = (m: object) => encode(D_WiFiConfigPayload, m);
  const reqs = [cfgMsg({ msg: 2, cmd_set_config: { ssid: Buffer.from("myssid"), passphrase: Buffer.from("mypassword") } }), cfgMsg({ msg: 4 }), cfgMsg({ msg: 0, cmd_get_status: {} })];
  const wire = [
    hex(encode(D_SessionData, { sec_ver: 2, sec2: { msg: 0, sc0: { client_username: Buffer.from(USER), client_pubkey: client.Abytes } } })),
    hex(encode(D_SessionData, { sec_ver: 2, sec2: { msg: 2, sc1: { client_proof: M } } })),
  ];
  for (const r of reqs) { wire.push(hex(g.encrypt(r))); g.encrypt(new Uint8Array(4)); } // each reply (4 bytes here) moves the counter too

  const entry = path.join(E.tmp, "sec2-entry.ts");
  fs.writeFileSync(entry, [
    `export { security2 } from ${JSON.stringify(path.join(root, "src/protocomm/security2"))};`,
    `export { createProtocomm } from ${JSON.stringify(path.join(root, "src/protocomm/protocomm"))};`,
  ].join("\n"));
  const bundle = await rollup({
    input: entry, treeshake: { moduleSideEffects: false },
    plugins: [typescript({ tsconfig: path.join(root, "tsconfig.json"), include: [path.join(root, "src/**/*.ts"), entry], outputToFilesystem: false, noEmitOnError: true })],
  });
  const code = (await bundle.generate({ format: "iife", name: "S2", strict: false, freeze: false, generatedCode: "es5" })).output[0].code;
  const keep = { ...MINIFY, toplevel: false, compress: { ...MINIFY.compress, toplevel: false }, mangle: { ...MINIFY.mangle, toplevel: false } };
  const src = (await minify(code, keep)).code!;
  // The driver: the firmware's ports as on the board (the crypto module's SHA-512 and AES-ECB, as
  // src/platform/espruino/platform.ts on the esp32 board; setTimeout, getTime), an oracle for the big numbers, a
  // protocomm with the session endpoint and a 4-byte prov-config reply; requests go in one after another; `stop`
  // ends the run (quit) after that many replies; process.memory() is sampled at every reply and timer.
  const H2 = (s: string) => `__h(${JSON.stringify(s)})`;
  const driver = (stop: number, sample: boolean) => src + `
function __h(s){var o=new Uint8Array(s.length/2);for(var i=0;i<o.length;i++)o[i]=parseInt(s.substr(2*i,2),16);return o;}
var __or=[${oracle.map(H2).join(",")}],__k=0,__pk=0,__m0=process.memory().usage,__at='';
function __s(w){var u=process.memory().usage-__m0;if(u>__pk){__pk=u;__at=w;}}
var __q=0;function __later(f){if(!__q)setTimeout(f,0);}
var ops={exp:function(x,e,d){${sample ? "__s('exp');" : ""}var r=__or[__k++];__later(function(){d(r);});},mul:function(x,y,d){var r=__or[__k++];__later(function(){d(r);});},
  add:function(){return ${H2(hex(toBytes(B, N_LEN)))};},ready:function(cb){cb('');}};
var C=require('crypto');
var cr={random:function(n){var o=new Uint8Array(n);o.fill(0x5a);return o;},sha512:function(d){return new Uint8Array(C.SHA512(d));},
  aes256:function(k){var kk=new Uint8Array(k);return function(b){b.set(new Uint8Array(C.AES.encrypt(b,kk,{mode:'ECB'})));};},defer:__later};
var log={e:print,w:print,i:print,d:function(){}};
var sec=S2.security2({verifier:function(cb){cb({salt:${H2(ver.salt)},v:${H2(ver.v)},kv:${H2(ver.kv)}});},ops:ops,crypto:cr,clock:{now:function(){return getTime()*1000;}},
  throttle:{wait:function(){return 0;},failed:function(){},succeeded:function(){}},log:log,patchVer:1});
var pc=S2.createProtocomm(sec,log);pc.add('prov-session',1);pc.add('prov-config',2,function(){return new Uint8Array([8,3,0x6a,0]);});
var __w=[${wire.map(H2).join(",")}],__n=0;
// quit() lets timers already due run (the Linux build's main loop): __q stops the firmware's deferred work first.
function __go(){if(__n>=${stop}){${sample ? "__s('end');print('PEAK '+__pk+' '+__at);" : ""}__q=1;quit();return;}
  var q=__w[__n];__n++;pc.handle(__n<3?'prov-session':'prov-config',1,q,function(e,r){if(e){print('FAIL '+e.message);quit();return;}${sample ? "__s('reply '+__n);" : ""}print('REPLY '+__n+' '+r.length);setTimeout(__go,${sample ? 50 : 0});});}
// The peak is taken above the state once b and B are ready (what the board holds after boot, measured with the bundle).
pc.open(1);sec.prepare(function(){${sample ? "__m0=process.memory().usage;__pk=0;" : ""}print('READY');setTimeout(__go,0);});
${sample ? "setInterval(function(){__s('timer');},1);" : ""}`;
  const file = (name: string, body: string) => { const f = path.join(E.tmp, name); fs.writeFileSync(f, body); return f; };
  const check = E.run(file("sec2-all.js", driver(5, false)));
  if (!/REPLY 5 /.test(check)) { say(`  the protocol core in Espruino did not complete the session: ${check.slice(-300)}`); process.exitCode = 1; return; }
  const [i0, i1, i2] = [0, 1, 2].map((n) => E.instr(file(`sec2-${n}.js`, driver(n, false))));
  // Run n ends once the n-th reply is out: the proofs' hashing after Resp0 falls into the Cmd1 figure, which is
  // what a client that sends Cmd1 at once waits for.
  const c0 = i1 - i0, c1 = i2 - i1;
  const peak = /PEAK (\d+) (.*)/.exec(E.run(file("sec2-peak.js", driver(5, true))));
  say(`-- in Espruino (protocol core, minified; big numbers from the oracle)`);
  say(`instructions (callgrind)     SessionCmd0 → SessionResp0 ${(c0 / 1e6).toFixed(0)} M (u, K = H(S)), SessionCmd1 → SessionResp1 ${(c1 / 1e6).toFixed(0)} M (M, H(A | M | K), from Resp0 on)`);
  const est = (i: number) => `${(i / 240e6).toFixed(2)}–${(i * 2.6 / 240e6).toFixed(2)} s`;
  say(`ESP32 estimate at 240 MHz    JS only: Cmd0 ${est(c0)}, Cmd1 ${est(c1)} (1–2.6 cycles per instruction); the RSA block's part below`);
  const boot = E.bootJsVars(OUT);
  if (peak) {
    const whole = boot + Number(peak[1]), pct = (100 * whole) / E.budget;
    say(`JsVars                       after boot ${boot} (interpreter + the Security 2 SoftAP bundle, idle; on Linux the block fails its check, so b, B are not held: ≈ +60 on the board)`);
    say(`                             + the session's peak above the protocol core's idle state ${peak[1]} (at ${peak[2]}) = ≈ ${whole}: ${pct.toFixed(0)}% of the SoftAP budget ${E.budget}   (goal < 70%: ${pct < 70 ? "ok" : "OVER"})`);
  }
  // ---- the RSA block's part: the driver's JS (callgrind, peripheral stood in by RAM as in the X25519 section:
  // poke32 writes a Uint32Array, a JS peek reads registers from it and returns fresh arrays for results) and the
  // hardware time of the simulator's model (test-host/sim/rsa.ts: MODEXP over the whole 3072-bit width) ----
  const bent = path.join(E.tmp, "bn-entry.ts");
  fs.writeFileSync(bent, `export { blockModExp, blockModMul, modGroup } from ${JSON.stringify(path.join(root, "src/crypto/esp32-bignum"))};\n` +
    `export { nBytes, r2Bytes } from ${JSON.stringify(path.join(root, "src/protocomm/srp"))};\n`);
  const bnb = await rollup({
    input: bent, treeshake: { moduleSideEffects: false },
    plugins: [typescript({ tsconfig: path.join(root, "tsconfig.json"), include: [path.join(root, "src/**/*.ts"), bent], outputToFilesystem: false, noEmitOnError: true })],
  });
  const bnSrc = (await minify((await bnb.generate({ format: "iife", name: "BN", strict: false, freeze: false, generatedCode: "es5" })).output[0].code, keep)).code!;
  const ram = "var RA=new Uint32Array(520),DA=new Uint32Array(293),rb=E.getAddressOf(RA,true),db=E.getAddressOf(DA,true);RA[0x814>>2]=1;RA[0x818>>2]=1;" +
    "var io={rsa:rb,dport:db,now:getTime,poke:poke32,peek:function(a,n){return n?new Uint32Array(n):a-db>=0&&a-db<1172?DA[(a-db)>>2]:RA[(a-rb)>>2];}};" +
    "var G=BN.modGroup(BN.nBytes(),BN.r2Bytes()),X=new Uint8Array(384),Y=new Uint8Array(64);X[383]=5;Y[0]=0x80;";
  const op = (call: string) => E.instr(file("bn-op.js", bnSrc + ram + call)) - E.instr(file("bn-0.js", bnSrc + ram));
  const okRun = E.run(file("bn-run.js", bnSrc + ram + "BN.blockModExp(io,G,X,Y,function(){print('DONE');},function(w){print('FAIL '+w);});"));
  if (!/DONE/.test(okRun)) { say(`  the block driver did not run on the stand-in: ${okRun.slice(-200)}`); process.exitCode = 1; return; }
  const iExp = op("BN.blockModExp(io,G,X,Y,function(){},function(){});"), iMul = op("BN.blockModMul(io,G,X,X,function(){},function(){});");
  const hwExp = modexpMs(96), hwMul = 2 * MULT_US * 9 / 1000; // two 3072-bit products, each (96/32)² × a 1024-bit one
  say(`RSA block, per operation     MODEXP ${(iExp / 1e6).toFixed(1)} M instructions + ${hwExp.toFixed(0)} ms hardware; MODMULT ${(iMul / 1e6).toFixed(1)} M + ${hwMul.toFixed(2)} ms`);
  // Cmd0 → Resp0: v^u, A·v^u, (A·v^u)^b on the block (g^b was made before the client came); Cmd1: none.
  const lo0 = (c0 + 2 * iExp + iMul) / 240e6 + (2 * hwExp + hwMul) / 1000, hi0 = (c0 + 2 * iExp + iMul) * 2.6 / 240e6 + (2 * hwExp + hwMul) / 1000;
  say(`ESP32 estimate at 240 MHz    SessionCmd0 → SessionResp0 ${lo0.toFixed(1)}–${hi0.toFixed(1)} s (JS + 2 MODEXP + 1 MODMULT), SessionCmd1 → SessionResp1 ${(c1 / 240e6).toFixed(1)}–${(c1 * 2.6 / 240e6).toFixed(1)} s   (goal each ≤ 10 s, upper bound)`);
  say("  (1–2.6 cycles per x86 instruction as the X25519 section; SHA-512 and AES from the crypto module, as on the esp32 board)");
}
