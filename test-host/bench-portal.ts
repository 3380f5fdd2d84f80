/**
 * The web portal's figures for `npm run bench`: the page's size (raw and gzip), the time the simulated board
 * takes to serve it at the default timing, and (inside an Espruino interpreter built for Linux) the JsVars two
 * browsers downloading it add to a Security 1 session's peak. In that interpreter the firmware's page
 * downloads go through Espruino's own HTTP server (libs/network/socketserver.c, the code the ESP32 runs:
 * each res.write copied into the send buffer until sent, 'drain' when it is empty), reached by real TCP
 * clients from here; the session's POSTs are driven inside, as bench-session.ts does.
 */
import fs from "node:fs";
import net from "node:net";
import { spawn } from "node:child_process";
import { SimDevice, loadBundle } from "./sim/device";
import { parseResponse } from "./sim/http";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { WORLD } from "./tests/helpers";
import { sessionPlan } from "./bench-session";
import { PAGE_CHUNK, PAGE_FILE } from "../src/transport/web-portal";

const GET = "GET / HTTP/1.1\r\nHost: 192.168.4.1\r\nAccept-Encoding: gzip\r\n\r\n";

/** Builds the page (tools/build-page.mjs) and serves it to one, then two browsers on the simulated board. */
export async function portalInSimulator(bundle: string, say: (s: string) => void): Promise<Buffer | undefined> {
  let page: Buffer, raw: number;
  try {
    const { buildPage } = await import("../tools/build-page.mjs");
    const p = await buildPage();
    page = fs.readFileSync(p.out);
    raw = p.raw;
  } catch (e) {
    say(`\n== Web portal: the page did not build (${(e as Error).message})`);
    process.exitCode = 1;
    return undefined;
  }
  const d = new SimDevice({ world: WORLD, slowdown: DEFAULT_SLOWDOWN });
  d.install(loadBundle(bundle));
  d.flash.writeFile(PAGE_FILE, page);
  d.boot();
  d.waitFor(/SoftAP started at 192\.168\.4\.1/, 60000);
  d.run(30000); // the device key pair is made at boot, before any client comes
  const serve = (n: number) => {
    const t0 = d.sched.now, socks = Array.from({ length: n }, () => { const s = d.http.connect(80); s.write(GET); return s; });
    d.http.sendPeak = 0;
    d.sched.runWhile(() => socks.every((s) => s.closedByDevice), 120000);
    const ok = socks.every((s) => parseResponse(s.received)?.body.equals(page));
    return `${ok ? ((d.sched.now - t0) / 1000).toFixed(2) + " s" : "FAILED"} (send buffers ≤ ${d.http.sendPeak} B at once)`;
  };
  say(`\n== Web portal (page from tools/build-page.mjs, served from Storage ${PAGE_FILE} in ${PAGE_CHUNK}-byte pieces on 'drain')`);
  say(`page bytes                   ${raw.toLocaleString("en")} B raw, ${page.length.toLocaleString("en")} B gzip (on the wire)   (goal ≤ 8 KB)`);
  say(`time to serve (simulator, cost model)  one browser ${serve(1)}, two at once ${serve(2)}`);
  return page;
}

/** One GET / to the interpreter's real server: the body, checked against the page. */
function download(port: number, page: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(GET));
    const chunks: Buffer[] = [];
    s.on("data", (b) => chunks.push(b));
    s.on("error", () => resolve(false));
    s.on("close", () => resolve(!!parseResponse(Buffer.concat(chunks))?.body.equals(page)));
  });
}

export const freePort = () => new Promise<number>((resolve) => {
  const srv = net.createServer().listen(0, "127.0.0.1", () => { const p = (srv.address() as net.AddressInfo).port; srv.close(() => resolve(p)); });
});

/**
 * Espruino's own HTTP server, no firmware: the same page streamed to two clients at once in pieces of `chunk`
 * bytes on 'drain' (or in one write), from Storage: the JsVars added at the peak. Small pieces show what the
 * interpreter's objects for two connections cost by themselves; the rest is the send buffers.
 */
export async function bareServer(o: { espruino: string; stdin: number; cwd: string; page: Buffer }, chunk: number): Promise<number> {
  const port = await freePort();
  // Both downloads take well under a second; the peak is printed after 6 s.
  const script = `var S=require('Storage');S.eraseAll();S.write('pg',atob(${JSON.stringify(o.page.toString("base64"))}));
var pk=0,m0;function smp(){var u=process.memory().usage;if(u>pk)pk=u;}
setTimeout(function(){m0=process.memory().usage;setInterval(smp,1);
require('http').createServer(function(req,res){var off=0,n=S.read('pg').length;res.writeHead(200,{'Content-Length':''+n});
function more(){smp();var k=Math.min(${chunk},n-off);if(k<=0){res.end();return;}res.write(S.read('pg',off,k));off+=k;}
res.on('drain',more);more();}).listen(${port});print('READY');setTimeout(function(){print('BARE '+(pk-m0));quit();},6000);},10);`;
  const p = spawn(o.espruino, ["-e", script], { cwd: o.cwd, stdio: [o.stdin, "pipe", "pipe"], timeout: 120000 });
  let out = "", done: Promise<boolean[]> | undefined;
  p.stdout!.on("data", (b: Buffer) => {
    out += b.toString("latin1");
    if (!done && /READY/.test(out)) done = Promise.all([download(port, o.page), download(port, o.page)]);
  });
  await new Promise((resolve) => p.on("close", resolve));
  const ok = done ? await done : [], m = /BARE (\d+)/.exec(out);
  return m && ok.length === 2 && ok.every(Boolean) ? Number(m[1]) : NaN;
}

/**
 * The SoftAP session of bench.ts again, with two browsers fetching the page from the moment SessionCmd0 goes
 * out (the X25519 of the shared secret runs meanwhile): the session's JsVar peak, to compare with the same
 * session without them. `run` starts the interpreter on a script; `own` maps a usage figure to the firmware's.
 */
export async function portalInEspruino(o: {
  espruino: string; stdin: number; cwd: string; shims: string; bundle: string; pop: string; page: Buffer;
  own: (usage: number, base: number) => number;
}): Promise<{ peak: number; at: string; downloads: string } | string> {
  const port = await freePort(), plan = sessionPlan(o.pop, "softap", { announce: true, quit: true });
  const script = `var __BLE=false,__HTTP_PORT=${port};\n` + o.shims + plan.driver +
    "\nvar S=require('Storage');S.eraseAll();S.write('.bench'," + JSON.stringify(o.bundle) + ");" +
    `S.write(${JSON.stringify(PAGE_FILE)},atob(${JSON.stringify(o.page.toString("base64"))}));\n` +
    "__st(function(){print('BASE '+process.memory().usage);__st(eval,0,S.read('.bench'));},10);";
  const p = spawn(o.espruino, ["-e", script], { cwd: o.cwd, stdio: [o.stdin, "pipe", "pipe"], timeout: 600000 });
  let out = "", fetched: Promise<boolean[]> | undefined;
  p.stdout!.on("data", (b: Buffer) => {
    out += b.toString("latin1");
    if (!fetched && /STEP 0/.test(out)) fetched = Promise.all([download(port, o.page), download(port, o.page)]);
  });
  await new Promise((resolve) => p.on("close", resolve));
  const got = fetched ? await fetched : [];
  const bad = plan.check(out), sm = /SESSION (\d+) (.+?) (\d+) (\d+)\r?$/m.exec(out), base = /BASE (\d+)/.exec(out);
  if (bad || !sm || !base) return "FAILED: " + (bad || out.slice(-400));
  return {
    peak: o.own(Number(sm[1]), Number(base[1])), at: sm[2]!,
    downloads: got.length === 2 && got.every(Boolean) ? "both pages complete and byte-exact" : `downloads FAILED (${JSON.stringify(got)})`,
  };
}
