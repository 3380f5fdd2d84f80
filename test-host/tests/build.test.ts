// The Espruino-subset check rejects a planted violation of each rule, the shipped bundle passes it,
// board files validate, and a config typo fails with file, line, option, value and what is allowed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { check } from "../../tools/subset-check.mjs";
import { readConfig, defaults } from "../../tools/config.mjs";
import { readBoard } from "../../tools/build-config.mjs";
import { freeBootOnly } from "../../tools/boot-only.mjs";
import { SOFTAP_BUNDLE, BLE_BUNDLE } from "./helpers";

const PLANTED: [string, string][] = [
  ["es5-syntax", "var f = (a) => a;"],
  ["es5-syntax", "var {a} = {a:1};"],
  ["no-hoisting", "f(); function f(){}"],
  ["no-hoisting", "var a = b; var b = 1;"],
  ["no-hoisting", "function g(){ return h; } g(); var h = 1;"],
  ["label", "outer: for(;;){ break outer; }"],
  ["ts-helper", "var B = __extends(B, A);"],
  ["ts-helper", "var x = __spreadArray([], [1]);"],
  ["ts-helper", "__generator(this, function(){});"],
  ["prototype-lookup", "var s = Array.prototype.slice;"],
  ["prototype-lookup", "var t = Object.prototype.toString;"],
  ["missing-global", "var m = new Map();"],
  ["missing-global", "var s = new Set();"],
  ["missing-global", "var y = Symbol('x');"],
  ["missing-member", "var i = Math.imul(2, 3);"],
  ["missing-member", "var a = Array.from([1]);"],
  ["regex", "var r = /a{2}/;"],
];

test("each rule rejects its planted violation with a line and a cited reason", () => {
  for (const [rule, src] of PLANTED) {
    const v = check(src);
    assert.ok(v.some((x: any) => x.rule === rule && x.line >= 1 && /\.md/.test(x.message)), `${rule}: ${src} → ${JSON.stringify(v)}`);
  }
  assert.deepEqual(check("var a = 1; function f(){ return a; } f(); (function(){ var q = function(){}; q(); })();"), []);
});

test("the SoftAP and BLE bundles pass the subset check", () => {
  for (const b of [SOFTAP_BUNDLE, BLE_BUNDLE]) assert.deepEqual(check(fs.readFileSync(b, "utf8")), [], b);
});

test("boot-only functions: only those that nothing can call after boot are freed", () => {
  const iife = (body: string) => "(function () {\n" + body + "\n})();";
  const code = iife([
    "function make(n) { return helper(n) + 1; }", // called by boot code only
    "function helper(n) { return n * 2; }", // called only from make's own body
    "function later() { return 3; }", // called from a closure: may run after boot
    "function kept() { return 4; }", // passed as a value: may be called after boot
    "function shadowedName(x) { return x; }",
    "function useLocal() { var shadowedName = function () { return 0; }; return shadowedName(); }",
    "function boot() { var h = { on: kept }; setTimeout(function () { later(); }, 10); (function () { make(1); })(); return useLocal() + shadowedName(2) + h; }",
    "boot();",
  ].join("\n"));
  const { code: freed, names } = freeBootOnly(code);
  assert.deepEqual(names, ["make", "helper", "shadowedName", "useLocal", "boot"]);
  assert.match(freed, /boot\(\);\nmake=helper=shadowedName=useLocal=boot=void 0\}\)\(\);$/);
  // The freed bundle still runs its boot and its later work.
  let timer: (() => void) | undefined;
  new Function("setTimeout", freed)((fn: () => void) => { timer = fn; });
  assert.doesNotThrow(() => timer!());
  // The SoftAP bundle frees what terser left of the boot-time factories, and still boots (every scenario test).
  assert.match(fs.readFileSync(SOFTAP_BUNDLE, "utf8"), /=void 0\}\(\);$/);
});

test("board files validate; an unknown board is a clear error", () => {
  for (const b of ["esp32", "esp32c3", "esp32s3"]) assert.equal(readBoard(b).id, b);
  assert.throws(() => readBoard("esp8266"), /unknown board 'esp8266': known boards are/);
});

test("config errors name the line, option, value and what is allowed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cfg-"));
  const bad = (text: string, re: RegExp) => { const f = path.join(dir, "c"); fs.writeFileSync(f, text); assert.throws(() => readConfig(f), re); };
  bad("CONFIG_PROV_AUTOSTOP_S=3\n", /:1: CONFIG_PROV_AUTOSTOP_S=3 is out of range: must be an integer from 5 to 600/);
  bad("# x\nCONFIG_PROV_POPP=\"a\"\n", /:2: unknown option CONFIG_PROV_POPP \(did you mean CONFIG_PROV_POP\?\)/);
  bad("CONFIG_PROV_SECURITY_VERSION=3\n", /is not one of 0, 1, 2/);
  bad("CONFIG_PROV_VERSION_STYLE=json\n", /CONFIG_PROV_VERSION_STYLE=json must be in double quotes, e\.g\. "json"/); // in a file, quotes are the syntax
  bad("CONFIG_PROV_SOFTAP_PASSWORD=\"short\"\n", /CONFIG_PROV_SOFTAP_PASSWORD="short" must be empty \(an open network\) or 8 to 63 printable ASCII characters$/);
  bad("CONFIG_LOG_COLORS=yes\n", /is not y or n/);
  bad("PROV_POP=1\n", /is not CONFIG_KEY=value/);
  assert.throws(() => readConfig(path.join(dir, "missing")), /cannot read the configuration/);
  // The tests' SoftAP build is the shipped defaults (config/schema.json), whatever the user's sdkconfig says, but
  // for the PoP: fixed, so that tests can name it.
  assert.equal(defaults().PROV_POP_MODE, "random");
  assert.deepEqual(readConfig("test-host/configs/softap.sdkconfig"), { ...defaults(), PROV_POP_MODE: "fixed" });
  assert.equal(defaults().PROV_POP, "abcd1234");
});

test("the repository stands on its own: nothing cites files beside the clone, every docs/ file cited exists, probe fixtures present", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (["node_modules", "dist", ".git", ".sim", ".scratch"].includes(e.name)) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs|js|json|md|sh|proto)$|^sdkconfig$/.test(e.name) && e.name !== "package-lock.json") files.push(p);
    }
  };
  walk(root);
  const missing = new Set<string>();
  const OUTSIDE = new RegExp("shared" + "/(reference|probes)|\\.\\./" + "shared\\b"); // split so this file does not match itself
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    assert.doesNotMatch(text, OUTSIDE, `${path.relative(root, f)} cites a path outside the repository`);
    for (const m of text.matchAll(/docs\/([\w.-]+\.md)/g)) if (!fs.existsSync(path.join(root, "docs", m[1]!))) missing.add(`${path.relative(root, f)} → docs/${m[1]}`);
  }
  assert.deepEqual([...missing], []);
  for (const p of ["crypto", "language", "storage", "timers", "timer-ids"]) {
    for (const ext of ["js", "expected"]) assert.ok(fs.existsSync(path.join(root, "test-host/fixtures/probes", `${p}.${ext}`)), `${p}.${ext}`);
  }
});
