// The web portal's HTTP side through the shipped bundle in the simulator: the captive-portal probes each OS
// makes, GET / with and without the page in Storage, two browsers downloading it at once (the send buffers the
// board holds meanwhile), POST protocomm unchanged beside it, nothing answering once provisioning stopped.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { build } from "../../tools/build.mjs";
import { SimDevice, loadBundle } from "../sim/device";
import { parseResponse, HttpClientSocket } from "../sim/http";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { provision } from "../client/esp-prov";
import { PAGE_CHUNK, PAGE_FILE } from "../../src/transport/web-portal";
import { WORLD } from "./helpers";
import jsQR from "jsqr";
import { PAGE_QR_PREFIX, qrBlock, qrModules } from "../../tools/qr.mjs";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "portal-"));
// Bundles of their own configs (none reads the root sdkconfig): the defaults, the portal off, the page's QR code.
let DEFAULTS = "", NO_PORTAL = "", PAGE_QR = "";
before(async () => {
  const cfg = path.join(tmp, "off.sdkconfig");
  const fixed = 'CONFIG_PROV_POP_MODE="fixed"\n'; // the defaults but a PoP the tests can name (abcd1234)
  fs.writeFileSync(cfg, fixed);
  DEFAULTS = path.join(tmp, "defaults.js");
  await build({ board: "esp32", config: cfg, out: DEFAULTS });
  fs.writeFileSync(cfg, fixed + "CONFIG_PROV_WEB_PORTAL=n\n");
  NO_PORTAL = path.join(tmp, "off.js");
  await build({ board: "esp32", config: cfg, out: NO_PORTAL });
  fs.writeFileSync(cfg, fixed + 'CONFIG_PROV_PORTAL_QR=y\nCONFIG_PROV_POP="my pop#1"\n');
  PAGE_QR = path.join(tmp, "qr.js");
  await build({ board: "esp32", config: cfg, out: PAGE_QR });
});

/** A stand-in page: 12 KB of incompressible text, gzip-compressed (the real one is made by tools/build-page.mjs). */
const HTML = "<!doctype html><title>x</title>" + Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7919) % 251)).toString("base64");
const PAGE = zlib.gzipSync(HTML);

function apDevice(o: { page?: boolean; bundle?: string } = {}) {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05 });
  d.install(loadBundle(o.bundle || DEFAULTS));
  if (o.page !== false) d.flash.writeFile(PAGE_FILE, PAGE);
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000), d.lines().join("\n"));
  return d;
}

function get(d: SimDevice, url: string, host = "192.168.4.1"): HttpClientSocket {
  const s = d.http.connect(80);
  s.write(`GET ${url} HTTP/1.1\r\nHost: ${host}\r\nAccept-Encoding: gzip, deflate\r\n\r\n`);
  return s;
}

function answer(d: SimDevice, s: HttpClientSocket) {
  d.sched.runWhile(() => s.closedByDevice, 60000);
  assert.ok(s.closedByDevice, "the board answered and closed the connection");
  return parseResponse(s.received)!;
}

const noUncaught = (d: SimDevice) => assert.deepEqual(d.lines().filter((l) => /Uncaught/.test(l)), []);

test("every OS's captive-portal probe, and any other GET, is redirected to http://192.168.4.1/", () => {
  const d = apDevice();
  // The probe URLs as each OS sends them (docs/captive-portal.md): none may get its "internet OK" answer.
  const probes: [string, string][] = [
    ["connectivitycheck.gstatic.com", "/generate_204"], ["www.google.com", "/gen_204"], ["clients3.google.com", "/generate_204"],
    ["captive.apple.com", "/hotspot-detect.html"], ["www.msftconnecttest.com", "/connecttest.txt"], ["www.msftncsi.com", "/ncsi.txt"],
    ["detectportal.firefox.com", "/canonical.html"], ["detectportal.firefox.com", "/success.txt?ipv4"],
    ["nmcheck.gnome.org", "/check_network_status.txt"], ["example.com", "/some/page?x=1"], ["192.168.4.1", "/favicon.ico"],
    // The page asked for by a host name (the DNS sends every name here): sent to the IP, one origin for the page.
    ["captive.apple.com", "/"],
  ];
  for (const [host, url] of probes) {
    const r = answer(d, get(d, url, host));
    assert.equal(r.status, 302, `${host}${url}`);
    assert.equal(r.headers.location, "http://192.168.4.1/");
    assert.equal(r.headers["content-length"], "0");
    assert.equal(r.headers["cache-control"], "no-store");
    assert.equal(r.body.length, 0);
  }
  assert.ok(d.lines().some((l) => /I \(\d+\) web_portal: GET \/generate_204: redirect to the provisioning page/.test(l)));
  // Other methods are still refused (protocomm is POST only).
  const s = d.http.connect(80);
  s.write("PUT / HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: 0\r\n\r\n");
  const r = answer(d, s);
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, "GET, POST");
  noUncaught(d);
});

test("GET / streams portal.html.gz gzip-encoded; two browsers at once get it whole while the board buffers at most a piece each", () => {
  const d = apDevice();
  for (const host of ["192.168.4.1", "127.0.0.1:8080", "localhost:8080"]) {
    const r = answer(d, get(d, "/", host));
    assert.equal(r.status, 200, host);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(r.headers["content-encoding"], "gzip");
    assert.equal(r.headers["content-length"], String(PAGE.length));
    assert.equal(r.headers["cache-control"], "no-store");
    assert.equal(zlib.gunzipSync(r.body).toString(), HTML);
  }
  // Two downloads at once: every piece is written only after the previous one left ('drain'), so the send
  // buffers (JsVars on the board: serverResponseWrite copies each write) never hold more than a head and a
  // piece per connection.
  d.http.sendPeak = 0;
  const t0 = d.sched.now, a = get(d, "/index.html"), b = get(d, "/?lang=en");
  const ra = answer(d, a), rb = answer(d, b);
  assert.deepEqual([ra.status, rb.status], [200, 200]);
  assert.ok(ra.body.equals(PAGE) && rb.body.equals(PAGE), "both got the page byte for byte");
  const head = s(a.received).indexOf("\r\n\r\n") + 4;
  assert.ok(d.http.sendPeak <= 2 * (head + PAGE_CHUNK), `send buffers peaked at ${d.http.sendPeak} bytes (≤ 2 × (${head} + ${PAGE_CHUNK}))`);
  assert.ok(d.http.sendPeak >= PAGE_CHUNK, "the pieces were measured");
  assert.ok(d.sched.now - t0 < 30000, "served within the browsers' patience");
  noUncaught(d);
});
const s = (b: Buffer) => b.toString("latin1");

test("without portal.html.gz: GET / answers a one-line hint and the apps' path still provisions", async () => {
  const d = apDevice({ page: false });
  const r = answer(d, get(d, "/"));
  assert.equal(r.status, 200);
  assert.equal(r.headers["content-type"], "text/plain");
  assert.match(r.body.toString(), /^No provisioning page on this board \(Storage portal\.html\.gz\): use the ESP SoftAP Provisioning app or esp_prov\.\n$/);
  assert.ok(d.lines().some((l) => /W \(\d+\) web_portal: GET \/: no portal\.html\.gz in Storage/.test(l)));
  const p = await provision(httpTransport(simHttpSend(d)), { ssid: "myssid", passphrase: "mypassword", pop: "abcd1234", sleep: async (ms) => d.run(ms) });
  assert.equal(p.ok, true);
  noUncaught(d);
});

test("POST protocomm is unchanged while a page downloads; once provisioning stops nothing answers", async () => {
  const d = apDevice();
  assert.ok(d.lines().some((l) => /^I \(\d+\) app: Provisioning page: http:\/\/192\.168\.4\.1\/#pop=abcd1234$/.test(l)), "portal URL logged");
  const page = get(d, "/");
  const p = await provision(httpTransport(simHttpSend(d)), { ssid: "myssid", passphrase: "mypassword", pop: "abcd1234", sleep: async (ms) => d.run(ms) });
  assert.equal(p.ok, true);
  assert.ok(parseResponse(page.received)!.body.equals(PAGE), "the page download finished beside the session");
  assert.ok(d.waitFor(/app_prov: Provisioning stopped/, 60000), "auto-stop after Connected");
  assert.throws(() => get(d, "/"), /EHOSTUNREACH|ECONNREFUSED/);
  assert.equal(d.dgram.open, 0, "the DNS socket is closed with the AP");
  noUncaught(d);
});

test("CONFIG_PROV_WEB_PORTAL=n: GET is refused as ESP-IDF does, no portal URL, no DNS socket", () => {
  const d = apDevice({ bundle: NO_PORTAL });
  const r = answer(d, get(d, "/"));
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, "POST");
  assert.ok(!d.lines().some((l) => /Provisioning page/.test(l)));
  assert.equal(d.dgram.open, 0);
  noUncaught(d);
});

test("CONFIG_PROV_PORTAL_QR=y: the page URL with the PoP (URL-encoded) is logged as a QR payload the host tools draw", () => {
  const d = apDevice({ bundle: PAGE_QR });
  const line = d.lines().find((l) => l.includes(PAGE_QR_PREFIX));
  // The log's time is the device's at that point of the boot code (the work counted so far: test-host/sim/cost.ts).
  assert.match(line!, /^I \(\d+\) app: QR payload for the provisioning page: http:\/\/192\.168\.4\.1\/#pop=my%20pop%231$/);
  assert.ok(d.lines().some((l) => l.includes("QR payload for the provisioning app:")), "the app's payload is still there");
  const drawn = qrBlock(line!, { color: false })!;
  assert.match(drawn[drawn.length - 1]!, /Join the board's access point, then scan this QR code/);
  const rows = qrModules(drawn.slice(0, -1), { color: false });
  const S = 3, h = rows.length * S, w = rows[0]!.length * S, px = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const v = rows[(y / S) | 0]![(x / S) | 0] ? 0 : 255; px.set([v, v, v, 255], (y * w + x) * 4); }
  assert.equal(jsQR(px, w, h, { inversionAttempts: "dontInvert" })?.data, "http://192.168.4.1/#pop=my%20pop%231");
});
