/**
 * A whole Security 1 provisioning session inside an Espruino interpreter built for Linux, for `npm run bench`:
 * the bundle boots from (emulated) flash Storage with stand-ins for NRF/Wifi/ESP32 (bench-shims.js), a
 * scripted central connects and writes SessionCmd0, SessionCmd1, SetConfig, ApplyConfig and GetStatus as
 * esp_prov would, and the JsVars in use (after a garbage collection) are sampled between the firmware's timers
 * (every millisecond: between X25519 slices), at every event and every stored reply.
 * The client side is computed here in Node: the shims' RNG is a fixed LCG, so the device's key pair and
 * random are known in advance, and every request can be prepared (and every reply checked) outside.
 */
import nodeCrypto from "node:crypto";
import nacl from "tweetnacl";
import { encode } from "../src/proto/codec";
import { D_SessionData, D_WiFiConfigPayload } from "../src/proto/schema.gen";
import type { SimDevice } from "./sim/device";
import { httpTransport, simHttpSend } from "./client/http-transport";
import { provision, ProvOptions } from "./client/esp-prov";

/** The shims' peek32: x ← 69069·x + 1 mod 2^32, exact in a double on both sides. */
export function lcg(seed: number) {
  let x = seed | 0;
  return () => { x = (x * 69069 + 1) | 0; return x >>> 0; };
}
/** espruinoCrypto().random: little-endian bytes of successive RNG words (src/platform/espruino/platform.ts). */
function randomBytes(next: () => number, n: number) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) { const r = next(); for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (r >>> (8 * k)) & 255; }
  return out;
}
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export const RNG_SEED = 0x12345678;

export interface SessionPlan { driver: string; check(out: string): string | undefined }

/** Variants of the scripted session: a prefix of its steps, without the memory sampler, ending the interpreter. */
export interface SessionOptions {
  /** Only the first n writes (2: SessionCmd0 and SessionCmd1). */
  steps?: number;
  /** Sample process.memory() every millisecond (default true; off when counting instructions). */
  sample?: boolean;
  /** quit() after the session (or, with steps 0, once the device key pair is ready): the Linux build's -e loop
   * runs while the firmware has timers pending. */
  quit?: boolean;
  /** Print "STEP n" as each write goes out (SoftAP), so that the bench can start page downloads mid-session. */
  announce?: boolean;
  /** The build's security version (default 1). Security 0: plain SessionCmd0 and configuration messages; the session
   * starts 1 s after "Provisioning started" (there is no key pair). */
  security?: 0 | 1;
}

/**
 * The Espruino-side driver (appended after the shims and the bundle's Storage file) and a checker for its output.
 * "ble": a scripted central writes to the BLE build's characteristics; "softap": a scripted HTTP client calls
 * the SoftAP build's request handler (the shims' http.createServer keeps it) with Espruino-shaped req/res objects,
 * sending the cookie it was given back.
 */
export function sessionPlan(pop: string, transport: "ble" | "softap" = "ble", opt: SessionOptions = {}): SessionPlan {
  const next = lcg(RNG_SEED);
  const devPriv = randomBytes(next, 32), devPub = nacl.scalarMult.base(devPriv), devRandom = randomBytes(next, 16);
  const cPriv = new Uint8Array(32).fill(0x42), cPub = nacl.scalarMult.base(cPriv);
  let key = Buffer.from(nacl.scalarMult(cPriv, devPub));
  if (pop) { const h = nodeCrypto.createHash("sha256").update(pop).digest(); key = Buffer.from(key.map((b, i) => b ^ h[i]!)); }
  const mk = () => nodeCrypto.createCipheriv("aes-256-ctr", key, Buffer.from(devRandom));
  const c = mk(), crypt = (d: Uint8Array) => new Uint8Array(c.update(d));
  const verify = crypt(devPub);
  crypt(new Uint8Array(32)); // the device's verify data
  // The replies the firmware will encode (their lengths move the shared CTR stream on).
  const cfg = (m: object) => encode(D_WiFiConfigPayload, m);
  const reqs = [cfg({ msg: 2, cmd_set_config: { ssid: Buffer.from("myssid"), passphrase: Buffer.from("mypassword") } })],
    resps = [cfg({ msg: 3, resp_set_config: { status: 0 } })];
  reqs.push(cfg({ msg: 4, cmd_apply_config: {} })); resps.push(cfg({ msg: 5, resp_apply_config: { status: 0 } }));
  reqs.push(cfg({ msg: 0, cmd_get_status: {} }));
  const wire: string[] = [];
  const sec0 = opt.security === 0;
  for (let i = 0; i < reqs.length; i++) { wire.push(hex(sec0 ? reqs[i]! : crypt(reqs[i]!))); if (resps[i] && !sec0) crypt(resps[i]!); }
  const allSteps = [
    ...(sec0 ? [["0xFF51", hex(encode(D_SessionData, { sec_ver: 0, sec0: { msg: 0, sc: {} } }))]] : [
      ["0xFF51", hex(encode(D_SessionData, { sec_ver: 1, sec1: { msg: 0, sc0: { client_pubkey: cPub } } }))],
      ["0xFF51", hex(encode(D_SessionData, { sec_ver: 1, sec1: { msg: 2, sc1: { client_verify_data: verify } } }))],
    ]),
    ["0xFF52", wire[0]!], ["0xFF52", wire[1]!], ["0xFF52", wire[2]!],
  ];
  const ready = sec0 ? "Provisioning started" : "key pair ready", first = sec0 ? 1 : 2;
  const steps = allSteps.slice(0, opt.steps ?? allSteps.length), quit = opt.quit ? "quit();" : "";
  const driver = `
var __on={},__svc,__peak=0,__at='',__step=0,__steps=${JSON.stringify(steps)},__waitFor,__t0;
function __sample(where){var u=process.memory().usage;if(u>__peak){__peak=u;__at=where;}}
var __st=setTimeout;
// The session starts 1 s after the device key pair is ready (made at boot), however long the host took for it.
console.log=function(l){print(l);if(/${ready}/.test(l))__st(__start,1000);};
var __iv=${opt.sample === false ? "0" : "setInterval(function(){__sample('between timers');},1)"};
NRF.setServices=function(s){__svc=s['0xFFFF'];};
NRF.on=function(ev,fn){__on[ev]=fn;};
NRF.emit=function(ev){var f=__on[ev];if(f)setTimeout(f,0);};
NRF.disconnect=function(){print('DROPPED at step '+__step);};
NRF.updateServices=function(u){var s=u['0xFFFF'];for(var k in s){var v=E.toUint8Array(s[k].value),h='';for(var i=0;i<v.length;i++)h+=(v[i]<16?'0':'')+v[i].toString(16);print('REPLY '+k+' '+h);__sample('reply '+__step);if(k===__waitFor){__waitFor=undefined;__step++;setTimeout(__next,10);}}};
function __hex(s){var b=new Uint8Array(s.length/2);for(var i=0;i<b.length;i++)b[i]=parseInt(s.substr(2*i,2),16);return b;}
function __end(){__st(function(){__sample('end');if(__iv)clearInterval(__iv);print('SESSION '+__peak+' '+__at+' '+process.memory().usage+' '+process.memory().total);${quit}},3000);}
function __next(){if(__step>=__steps.length)return __end();
  var s=__steps[__step];__waitFor=s[0];__svc[s[0]].onWrite({data:__hex(s[1]).buffer});}
function __start(){__sample('boot');print('BOOTED '+process.memory().usage+' '+__peak);__peak=0;__on.connect('aa:bb:cc:dd:ee:ff');__st(__next,50);}
${transport === "softap" ? `
var __cookie;
__next=function(){if(__step>=__steps.length)return __end();${opt.announce ? "print('STEP '+__step);" : ""}
  var s=__steps[__step],body=E.toString(__hex(s[1])),h={'Content-Length':''+body.length},ev={};if(__cookie)h.Cookie=__cookie;
  var req={method:'POST',url:s[0]==='0xFF51'?'/prov-session':'/prov-config',headers:h,on:function(e,f){ev[e]=f;}};
  var res={writeHead:function(c,hd){if(c!==200)print('DROPPED at step '+__step+': HTTP '+c);if(hd&&hd['Set-Cookie'])__cookie=hd['Set-Cookie'];},
    end:function(d){var v=E.toUint8Array(d||''),x='';for(var i=0;i<v.length;i++)x+=(v[i]<16?'0':'')+v[i].toString(16);print('REPLY '+s[0]+' '+x);__sample('reply '+__step);__step++;__st(__next,10);}};
  __httpServe(req,res);__st(function(){if(ev.data)ev.data(body);if(ev.end)ev.end();},0);};
__start=function(){__sample('boot');print('BOOTED '+process.memory().usage+' '+__peak);__peak=0;__st(__next,50);};
` : ""}`;
  return {
    driver,
    check(out) {
      const replies = [...out.matchAll(/REPLY (0x[0-9A-F]+) ([0-9a-f]+)/g)].map((m) => m[2]!);
      if (/DROPPED/.test(out)) return "the device dropped the link: " + (/DROPPED.*$/m.exec(out)?.[0] ?? "");
      if (replies.length < steps.length) return `only ${replies.length} of ${steps.length} replies:\n${out.slice(-600)}`;
      // Re-run the client's stream over the transcript: Resp1's verify data must decrypt to the client key
      // and each config reply to the message predicted above (GetStatus: a status reply).
      const c2 = mk(), x = sec0 ? (d: Uint8Array) => d : (d: Uint8Array) => new Uint8Array(c2.update(d));
      if (!sec0) {
        x(devPub);
        if (hex(x(Buffer.from(replies[1]!.slice(-64), "hex"))) !== hex(cPub)) return "Resp1's verify data does not decrypt to the client key";
      }
      for (let i = 0; i < reqs.length && first + i < replies.length; i++) {
        x(new Uint8Array(reqs[i]!.length));
        const plain = x(Buffer.from(replies[first + i]!, "hex"));
        if (resps[i] ? hex(plain) !== hex(resps[i]!) : plain[0] !== 8 || plain[1] !== 1) return `config reply ${i} decrypts to ${hex(plain)}`;
      }
      return undefined;
    },
  };
}

/**
 * Provisions a simulated board over its SoftAP as esp_prov --transport softap does (SSID myssid / mypassword),
 * recording each reply's device-time wait: "Connected <ip>", "FAILED <state>" or "FAILED: <why>" (e.g. a client
 * timeout), and the waits as "<endpoint> <s> s".
 */
export async function simHttpSession(d: SimDevice, o: Omit<ProvOptions, "ssid" | "passphrase" | "sleep">): Promise<{ res: string; waits: string[] }> {
  const waits: string[] = [];
  try {
    const http = httpTransport(simHttpSend(d));
    const r = await provision({
      exchange: async (ep, data) => { const t1 = d.sched.now; const x = await http.exchange(ep, data); waits.push(`${ep} ${((d.sched.now - t1) / 1000).toFixed(1)} s`); return x; },
      close: http.close,
    }, { ...o, ssid: "myssid", passphrase: "mypassword", sleep: async (ms) => d.run(ms) });
    return { res: r.ok ? "Connected " + r.ip : "FAILED " + r.state, waits };
  } catch (e) {
    return { res: "FAILED: " + (e as Error).message, waits };
  }
}
