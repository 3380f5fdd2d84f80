// The provisioning web page (web/portal) in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against `npm run sim` serving the page (GET /, Storage portal.html.gz) and the protocomm
// endpoints on --http-port, as a phone that joined the board's access point sees them. Chromium is installed by
// npm test itself (tools/ensure-chromium.mjs); a missing browser fails here, it is never skipped.
// Screenshots (360×640) go to a temporary folder; PORTAL_SHOTS=docs writes the README's docs/portal-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, Browser, Page } from "playwright-core";
import { build } from "../../tools/build.mjs";
import { x25519 } from "../../web/portal/x25519";
import { hex, toHex, until } from "./helpers";

const ROOT = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "portal-"));
const SHOTS = process.env.PORTAL_SHOTS ? path.resolve(ROOT, process.env.PORTAL_SHOTS) : tmp;
const CHROMIUM = "/usr/bin/chromium";
/** Never a downloaded browser, no network side traffic, a fresh profile (playwright's launch makes one per browser). */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** test-host/configs/portal.sdkconfig */
const POP = "label-pop-7";
/** Real-time limit for what the board does in device time (a Security 1 handshake, a scan, a connection attempt). */
const WAIT_MS = 120_000;
const WORLD = {
  aps: [
    { ssid: "Neighbour", password: "secret123", auth: "wpa2", rssi: -84, channel: 11, bssid: "33:44:55:66:77:88" },
    { ssid: "myssid", password: "mypassword", auth: "wpa2", rssi: -48, channel: 6, bssid: "11:22:33:44:55:66", ip: "192.168.43.220" },
    { ssid: "Cafe Libre", auth: "open", rssi: -71, channel: 1, bssid: "22:33:44:55:66:77" },
  ],
};

let browser: Browser | undefined, bundle = "";
const procs = new Set<ChildProcess>();

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: npm test installs it (tools/ensure-chromium.mjs)`);
  // Also (re)builds dist/portal.html.gz, which the simulator puts into the board's Storage as npm run flash does.
  bundle = await buildWith("portal", "");
  fs.writeFileSync(path.join(tmp, "world.json"), JSON.stringify(WORLD));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await browser?.close();
});

interface Sim { port: number; flash: string; log: () => string }

/** A firmware bundle of test-host/configs/portal.sdkconfig with the options in `extra` ("KEY=value" lines) replaced. */
async function buildWith(name: string, extra: string): Promise<string> {
  const cfg = path.join(tmp, `${name}.sdkconfig`), out = path.join(tmp, `${name}.js`), keys = extra.split("\n").map((l) => l.split("=")[0]);
  const base = fs.readFileSync(path.join(ROOT, "test-host/configs/portal.sdkconfig"), "utf8").split("\n").filter((l) => !keys.includes(l.split("=")[0]));
  fs.writeFileSync(cfg, base.join("\n") + "\n" + extra);
  await build({ board: "esp32", config: cfg, out });
  return out;
}

/**
 * npm run sim with this build in Storage, the test's radio world and the board's HTTP server on a free port;
 * resolves once the board's access point is up (before that a connection is refused, as to an absent host).
 */
function sim(firmware = bundle): Promise<Sim> {
  const flash = path.join(tmp, `flash-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(flash, JSON.stringify({ ".boot0": fs.readFileSync(firmware).toString("base64") }));
  const p = spawn(process.execPath, ["--import", "tsx", "test-host/sim-cli.ts", "--flash", flash, "--wifi", path.join(tmp, "world.json"),
    "--http-port", "0", "--gatt-port", "0", "--slowdown", "0.05"], { cwd: ROOT });
  procs.add(p);
  let out = "", err = "";
  return new Promise((resolve, reject) => {
    const ready = () => {
      const h = /HTTP server .* on 127\.0\.0\.1:(\d+)/.exec(err);
      if (h && /SoftAP Provisioning started/.test(out)) resolve({ port: Number(h[1]), flash, log: () => out });
    };
    p.stdout.on("data", (d) => { out += d; ready(); });
    p.stderr.on("data", (d) => { err += d; ready(); });
    p.on("close", (c) => reject(new Error(`sim exited ${c}: ${err}`)));
  });
}

/** The credentials record the firmware saved (src/prov/credentials.ts: "<seq>,<ssid hex>,<pass hex>,<crc>"), newest slot. */
function saved(flash: string): { ssid: string; pass: string } | undefined {
  let files: Record<string, string>;
  try { files = JSON.parse(fs.readFileSync(flash, "utf8")); } catch { return undefined; } // being rewritten: ask again
  const recs = ["prov.cred.a", "prov.cred.b"].filter((k) => files[k]).map((k) => Buffer.from(files[k]!, "base64").toString("latin1").split(","));
  const r = recs.sort((a, b) => Number(b[0]) - Number(a[0]))[0];
  return r && { ssid: Buffer.from(r[1]!, "hex").toString(), pass: Buffer.from(r[2]!, "hex").toString() };
}

/** Uncaught errors in the page; `says` fails on any. */
const pageErrors: string[] = [];

/** A phone-sized tab on the board's page. */
async function open(s: Sim, fragment: string): Promise<Page> {
  const ctx = await browser!.newContext({ viewport: { width: 360, height: 640 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${s.port}/${fragment}`);
  return page;
}

/** Waits until the page's status box says `re` (the box is what the user reads). */
async function says(page: Page, re: RegExp) {
  try {
    // A string expression: this file is type-checked without the DOM library.
    await page.waitForFunction(`new RegExp(${JSON.stringify(re.source)}).test(document.getElementById("st").textContent)`, undefined, { timeout: WAIT_MS });
  } catch {
    assert.fail(`the page never said ${re}; it says: ${JSON.stringify(await page.textContent("#st"))}`);
  }
  assert.deepEqual(pageErrors, [], "no errors in the page");
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `portal-${name}.png`) });

test("page X25519 (BigInt): RFC 7748 §5.2 and §6.1 vectors, and agreement with node:crypto", () => {
  const k = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  const u = hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  assert.equal(toHex(x25519(k, u)), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  const alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  assert.equal(toHex(x25519(alice)), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  assert.equal(toHex(x25519(alice, x25519(bob))), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  for (let i = 0; i < 8; i++) {
    const a = crypto.generateKeyPairSync("x25519"), b = crypto.randomBytes(32);
    const aPub = a.publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const bPub = crypto.createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), x25519(b)]), format: "der", type: "spki" });
    assert.equal(toHex(x25519(b, aPub)), toHex(crypto.diffieHellman({ privateKey: a.privateKey, publicKey: bPub })));
  }
});

test("portal in Chromium: a wrong PoP is reported and nothing is saved; the right PoP opens the session and lists the networks", { timeout: 300_000 }, async () => {
  const s = await sim();
  const page = await open(s, "#pop=not-the-pop");
  await says(page, /^Wrong PoP/);
  assert.match(s.log(), /Key mismatch/, "the firmware refused the session (Security 1 SessionCmd1)");
  assert.equal(await page.locator(".net").count(), 0, "no network listed without a session");
  assert.equal(saved(s.flash), undefined, "nothing saved");
  assert.equal(await page.inputValue("[name=pop]"), "not-the-pop", "the PoP field holds the URL's #pop");

  await page.fill("[name=pop]", POP);
  await page.click("#rescan");
  await page.waitForSelector(".net", { timeout: WAIT_MS });
  // Strongest first, a lock on the secured ones, bars from the RSSI.
  assert.deepEqual(await page.locator(".net span").allTextContents(), ["myssid", "Cafe Libre", "Neighbour"]);
  assert.deepEqual(await page.locator(".net").evaluateAll((bs) => bs.map((b) => [!!b.querySelector(".lock"), b.querySelector(".sig")!.className])),
    [[true, "sig s4"], [false, "sig s2"], [true, "sig s1"]]);
  assert.equal(await page.textContent("#st"), "", "no message left once the list is there");
  assert.equal(saved(s.flash), undefined);
});

test("portal in Chromium: repeated wrong PoPs: the board's lock-out is reported as such", { timeout: 600_000 }, async () => {
  const s = await sim();
  const page = await open(s, "#pop=guess-1");
  // Three failures are free, then each locks the board for 10 s doubling (src/protocomm/throttle.ts): keep
  // guessing until a session is refused, whatever time each guess takes on this host.
  let locked = false;
  for (let i = 1; i <= 8 && !locked; i++) {
    if (i > 1) {
      await page.fill("[name=pop]", `guess-${i}`);
      await page.click("#rescan");
    }
    await says(page, /^(Wrong PoP|Too many wrong PoPs)/);
    locked = /^Too many wrong PoPs/.test((await page.textContent("#st"))!);
    // A refused guess is not a failed PoP check, so the first three are always "Wrong PoP".
    if (i <= 3) assert.ok(!locked, `guess ${i} reported a lock-out`);
  }
  assert.ok(locked, "the page reported the lock-out");
  assert.match(s.log(), /Too many failed PoP attempts/);
  assert.equal(saved(s.flash), undefined);
});

test("portal in Chromium: unknown network, wrong password, then the right one: the board's reasons, a retry, Connected and saved", { timeout: 300_000 }, async () => {
  const s = await sim();
  const page = await open(s, `#pop=${POP}`);
  await page.waitForSelector(".net", { timeout: WAIT_MS }); // the PoP from the URL: the list fills itself
  await page.click(".net >> text=myssid");
  assert.equal(await page.inputValue("[name=ssid]"), "myssid");
  await page.fill("[name=password]", "mypassword");
  assert.equal(await page.evaluate("document.documentElement.scrollWidth"), 360, "nothing wider than a 360-px screen");
  await shot(page, "form");
  // Show / hide the password.
  await page.click("#show");
  assert.equal(await page.getAttribute("[name=password]", "type"), "text");
  await page.click("#show");
  assert.equal(await page.getAttribute("[name=password]", "type"), "password");

  // A hidden network is typed in; this one is not in range.
  await page.fill("[name=ssid]", "HiddenNet");
  await page.fill("[name=password]", "whatever1");
  await page.click("[type=submit]");
  await says(page, /^Network HiddenNet not found/);

  // Retry (prov-ctrl reset first) with a wrong password.
  await page.click(".net >> text=myssid");
  await page.fill("[name=password]", "wrong-password");
  await page.click("[type=submit]");
  await says(page, /^Wrong password for myssid/);
  assert.equal((s.log().match(/State reset after failure/g) || []).length, 1, "the retry reset the board's failed state");
  await shot(page, "failed");
  assert.equal(saved(s.flash), undefined, "nothing saved after failed attempts");

  await page.fill("[name=password]", "mypassword");
  await page.click("[type=submit]");
  await says(page, /^Connected to myssid.*IP address 192\.168\.43\.220/);
  await shot(page, "connected");
  assert.equal((s.log().match(/State reset after failure/g) || []).length, 2);
  await until(() => saved(s.flash)?.ssid === "myssid", "the board saved the credentials", WAIT_MS);
  assert.deepEqual(saved(s.flash), { ssid: "myssid", pass: "mypassword" });
});

test("portal in Chromium: a board without a PoP (Security 1 without one, and Security 0) hides the PoP field and provisions", { timeout: 300_000 }, async () => {
  for (const [name, extra] of [["nopop", 'CONFIG_PROV_POP=""\n'], ["sec0", "CONFIG_PROV_SECURITY_VERSION=0\n"]]) {
    const s = await sim(await buildWith(name, extra!));
    const page = await open(s, "");
    await page.waitForSelector(".net", { timeout: WAIT_MS }); // nothing to ask: the list fills itself
    assert.equal(await page.isVisible("[name=pop]"), false, `${name}: no PoP field`);
    await page.click(".net >> text=myssid");
    await page.fill("[name=password]", "mypassword");
    await page.click("[type=submit]");
    await says(page, /^Connected to myssid/);
    await until(() => saved(s.flash)?.ssid === "myssid", `${name}: the board saved the credentials`, WAIT_MS);
  }
});
