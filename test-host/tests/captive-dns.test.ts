// The captive DNS: the pure answer function byte by byte, then the shipped bundle in the simulator asked by
// Node's own resolver (c-ares) through a real UDP socket bridged to the board's port 53 (as npm run sim --
// --dns-port does), hostile datagrams from raw sockets, and the responder going away with the access point.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import dns from "node:dns";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { dnsAnswer, DNS_MAX } from "../../src/transport/captive-dns";
import { SimDevice, loadBundle } from "../sim/device";
import { bridgeUdp, UDP_MAX } from "../sim/dgram";
import { provision } from "../client/esp-prov";
import { httpTransport, simHttpSend } from "../client/http-transport";
import { until, WORLD } from "./helpers";
import { build } from "../../tools/build.mjs";

// The SoftAP build with the schema's defaults (portal and captive DNS on), not the root sdkconfig.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dns-"));
const BUNDLE = path.join(tmp, "defaults.js");
before(async () => {
  fs.writeFileSync(path.join(tmp, "defaults.sdkconfig"), 'CONFIG_PROV_POP_MODE="fixed"\n'); // a PoP the test can name
  await build({ board: "esp32", config: path.join(tmp, "defaults.sdkconfig"), out: BUNDLE });
});

const AP = "\xC0\xA8\x04\x01";
const bin = (b: Buffer) => b.toString("latin1");

/** A standard query (RD set) for name and qtype, optionally with an EDNS OPT record. */
function query(name: string, qtype = 1, o: { id?: number; edns?: boolean; qclass?: number } = {}) {
  const labels = name.split(".").filter(Boolean).map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(o.id ?? 0x1234, 0);
  head[2] = 0x01;
  head.writeUInt16BE(1, 4);
  if (o.edns) head.writeUInt16BE(1, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(o.qclass ?? 1, 2);
  const opt = o.edns ? Buffer.from("0000291000000000000000", "hex") : Buffer.alloc(0);
  return Buffer.concat([head, ...labels, Buffer.of(0), q, opt]);
}

test("dnsAnswer: A → the AP address, other types and classes → empty NOERROR, EDNS queries answered without OPT", () => {
  const q = query("connectivitycheck.gstatic.com");
  const r = Buffer.from(dnsAnswer(bin(q), AP)!, "latin1");
  const qLen = q.length - 12;
  assert.equal(r.readUInt16BE(0), 0x1234, "same ID");
  assert.equal(r[2], 0x85, "QR, AA, RD copied");
  assert.equal(r[3], 0x80, "RA, NOERROR");
  assert.deepEqual([r.readUInt16BE(4), r.readUInt16BE(6), r.readUInt16BE(8), r.readUInt16BE(10)], [1, 1, 0, 0]);
  assert.ok(r.subarray(12, 12 + qLen).equals(q.subarray(12)), "the question echoed");
  assert.equal(r.subarray(12 + qLen).toString("hex"), "c00c" + "0001" + "0001" + "0000003c" + "0004" + "c0a80401");
  for (const t of [28, 65, 64, 255, 16, 15]) {
    const e = Buffer.from(dnsAnswer(bin(query("example.com", t)), AP)!, "latin1");
    assert.equal(e[3] & 0x0f, 0, `type ${t}: NOERROR`);
    assert.equal(e.readUInt16BE(6), 0, `type ${t}: no answer`);
    assert.equal(e.length, query("example.com", t).length, `type ${t}: header + question only`);
  }
  assert.equal(Buffer.from(dnsAnswer(bin(query("x.org", 1, { qclass: 3 })), AP)!, "latin1").readUInt16BE(6), 0, "class CH: no A");
  const e = Buffer.from(dnsAnswer(bin(query("a.b", 1, { edns: true, id: 7 })), AP)!, "latin1");
  assert.deepEqual([e.readUInt16BE(0), e.readUInt16BE(6), e.readUInt16BE(10)], [7, 1, 0]);
  // The root name and a 255-byte name are valid questions.
  assert.ok(dnsAnswer(bin(query("")), AP));
  assert.ok(dnsAnswer(bin(query(Array(4).fill("a".repeat(62)).join("."))), AP), "a name of 4 × (1 + 62) + 1 = 253 bytes");
});

/** Malformed, truncated and oversized datagrams: each must get no reply (and no exception). */
function hostile(): [string, Buffer][] {
  const good = query("example.com");
  const set = (b: Buffer, i: number, v: number) => { const c = Buffer.from(b); c[i] = v; return c; };
  const u16 = (b: Buffer, i: number, v: number) => { const c = Buffer.from(b); c.writeUInt16BE(v, i); return c; };
  return [
    ["empty", Buffer.alloc(0)],
    ["5 bytes", good.subarray(0, 5)],
    ["header only", good.subarray(0, 12)],
    ["cut in the name", good.subarray(0, 16)],
    ["cut in QTYPE/QCLASS", good.subarray(0, good.length - 1)],
    ["a response (QR set)", set(good, 2, 0x81)],
    ["opcode STATUS", set(good, 2, 0x11)],
    ["TC set", set(good, 2, 0x03)],
    ["QDCOUNT 0", u16(good, 4, 0)],
    ["QDCOUNT 2", u16(good, 4, 2)],
    ["ANCOUNT 1", u16(good, 6, 1)],
    ["NSCOUNT 1", u16(good, 8, 1)],
    ["ARCOUNT 2", u16(good, 10, 2)],
    ["label of 64", Buffer.concat([good.subarray(0, 12), Buffer.of(64), Buffer.alloc(64, 0x61), Buffer.of(0, 0, 1, 0, 1)])],
    ["compression pointer", Buffer.concat([good.subarray(0, 12), Buffer.of(0xc0, 12, 0, 1, 0, 1)])],
    ["label past the end", Buffer.concat([good.subarray(0, 12), Buffer.of(40), Buffer.from("abc")])],
    ["no root label", Buffer.concat([good.subarray(0, 12), Buffer.of(3), Buffer.from("abc")])],
    ["name over 255 bytes", query(Array(5).fill("b".repeat(62)).join("."))],
    ["513 bytes", Buffer.concat([query("example.com", 1, { edns: true }), Buffer.alloc(513 - query("example.com", 1, { edns: true }).length)])],
    ["1,400 bytes (cut to 528 by the board)", Buffer.concat([good, Buffer.alloc(1400 - good.length, 0x55)])],
    ["random bytes", Buffer.from("8f3a9c00d1e2ff7710", "hex")],
  ];
}

test("dnsAnswer drops malformed, truncated and oversized queries without throwing", () => {
  assert.equal(DNS_MAX, 512);
  for (const [what, b] of hostile()) assert.equal(dnsAnswer(bin(b), AP), undefined, what);
  // Random garbage of every length up to the board's cap: never an exception.
  for (let n = 0; n <= UDP_MAX; n++) {
    const b = Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n * 17) & 255));
    assert.doesNotThrow(() => dnsAnswer(bin(b), AP));
  }
});

/** Boots the shipped SoftAP bundle until its AP is up; a host UDP socket on 127.0.0.1 is bridged to its port 53. */
async function dnsBoard() {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05 });
  d.install(loadBundle(BUNDLE));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000), d.lines().join("\n"));
  const host = dgram.createSocket("udp4");
  await new Promise<void>((r) => host.bind(0, "127.0.0.1", () => r()));
  bridgeUdp(host, () => d.dgram, 53);
  // The board runs while the host waits for a real socket (device time in small steps).
  let running = true;
  const pump = (async () => { while (running) { d.run(20); await new Promise((r) => setTimeout(r, 2)); } })();
  const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${host.address().port}`]);
  return {
    d, resolver, port: host.address().port,
    async close() { running = false; await pump; host.close(); },
  };
}

/** Sends raw datagrams from a fresh socket; the replies that came back within ms. */
async function rawSend(port: number, packets: Buffer[], ms = 300): Promise<Buffer[]> {
  const s = dgram.createSocket("udp4"), got: Buffer[] = [];
  s.on("message", (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  for (const p of packets) s.send(p, port, "127.0.0.1");
  await new Promise((r) => setTimeout(r, ms));
  s.close();
  return got;
}

test("a real resolver on the simulated board: every name's A is 192.168.4.1 (TTL 60), AAAA/TXT are empty answers", async () => {
  const b = await dnsBoard();
  try {
    for (const name of ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com", "detectportal.firefox.com", "no-such-name.example"]) {
      assert.deepEqual(await b.resolver.resolve4(name), ["192.168.4.1"], name);
    }
    assert.deepEqual(await b.resolver.resolve4("captive.apple.com", { ttl: true }), [{ address: "192.168.4.1", ttl: 60 }]);
    // NOERROR without an answer is "no data" to c-ares (not NXDOMAIN, not a timeout).
    await assert.rejects(b.resolver.resolve6("captive.apple.com"), { code: "ENODATA" });
    await assert.rejects(b.resolver.resolveTxt("example.com"), { code: "ENODATA" });
    assert.ok(b.d.lines().some((l) => /SoftAP started at 192\.168\.4\.1/.test(l)));
  } finally {
    await b.close();
  }
});

test("malformed, truncated and oversized datagrams get no reply and break nothing: the board answers right after", async () => {
  const b = await dnsBoard();
  try {
    const replies = await rawSend(b.port, hostile().map(([, p]) => p), 1500);
    assert.deepEqual(replies.map((r) => r.toString("hex")), [], "no reply to any of them");
    assert.deepEqual(b.d.lines().filter((l) => /Uncaught|ERROR/.test(l)), []);
    const good = await rawSend(b.port, [query("example.com", 1, { id: 0xbeef })], 1500);
    assert.equal(good.length, 1);
    assert.equal(good[0]!.readUInt16BE(0), 0xbeef);
    assert.deepEqual(await b.resolver.resolve4("after.example"), ["192.168.4.1"]);
  } finally {
    await b.close();
  }
});

test("DNS stops with the access point when provisioning ends", async () => {
  const d = new SimDevice({ world: WORLD, slowdown: 0.05 });
  d.install(loadBundle(BUNDLE));
  d.boot();
  assert.ok(d.waitFor(/SoftAP started at 192\.168\.4\.1/, 20000));
  assert.equal(d.dgram.open, 1, "port 53 bound while the AP is up");
  const ask = () => { let got: Buffer | undefined; const sent = d.dgram.send(53, query("a.example"), { address: "192.168.4.2", port: 40000 }, (r) => (got = r)); d.run(1000); return sent && got; };
  assert.ok(ask(), "answered while provisioning");
  const p = await provision(httpTransport(simHttpSend(d)), { ssid: "myssid", passphrase: "mypassword", pop: "abcd1234", sleep: async (ms) => d.run(ms) });
  assert.equal(p.ok, true);
  assert.ok(d.waitFor(/app_prov: Provisioning stopped/, 60000));
  assert.equal(d.dgram.open, 0, "socket closed");
  assert.equal(ask(), false, "nothing answers: the AP is gone");
  // After a reboot with saved credentials the board is a station: no AP, no DNS.
  d.boot();
  d.run(5000);
  assert.equal(d.dgram.open, 0);
});

test("npm run sim -- --dns-port 0: the board's DNS on a UDP port of 127.0.0.1, for any resolver", async () => {
  // The simulated board's Storage holding that build as .boot0 (what npm run flash would have written).
  const flash = path.join(tmp, "flash.json");
  fs.writeFileSync(flash, JSON.stringify({ ".boot0": fs.readFileSync(BUNDLE).toString("base64") }));
  const p = spawn(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", "--gatt-port", "0", "--http-port", "0", "--dns-port", "0", "--slowdown", "0.05", "--flash", flash]);
  let out = "", err = "";
  p.stdout!.on("data", (d) => { out += d; });
  p.stderr!.on("data", (d) => { err += d; });
  try {
    await until(() => /board's DNS .* on UDP 127\.0\.0\.1:\d+/.test(err) && /SoftAP started at 192\.168\.4\.1/.test(out), "sim with --dns-port up and its AP started", 60_000);
    const r = new dns.promises.Resolver({ timeout: 3000, tries: 2 });
    r.setServers([`127.0.0.1:${/on UDP 127\.0\.0\.1:(\d+)/.exec(err)![1]}`]);
    assert.deepEqual(await r.resolve4("connectivitycheck.gstatic.com"), ["192.168.4.1"]);
    assert.match(out, /Provisioning page: http:\/\/192\.168\.4\.1\/#pop=abcd1234/);
  } finally {
    p.kill("SIGKILL");
  }
});
