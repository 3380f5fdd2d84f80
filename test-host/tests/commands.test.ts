// The user's commands follow the user's configuration, and the tests do not: npm start in a copy of the repo
// after the README's menuconfig changes (PoP, security version, BLE transport), the tests' own configs, and
// the --help / failure conventions every command shares (exit 0 for --help, one line and a non-zero exit
// for a failure, no stack trace).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { scratchRepo } from "./helpers";
import { ROOT, run, oneLine } from "./cli-harness";

/** npm run -s SCRIPT ARGS in a repository (this one, or a scratch copy). */
const npm = (cwd: string, ...args: string[]) => run("npm", ["run", "-s", ...args], { cwd, timeoutMs: 120_000 });

/** The provisioning payload the board logged (what its QR code holds). */
const payload = (out: string) => JSON.parse(/QR payload for the provisioning app: (\{.*\})/.exec(out)![1]!);

test("npm start follows the user's sdkconfig (in a copy of the repo): a new PoP, Security 0, a BLE build", { timeout: 300_000 }, async () => {
  const repo = scratchRepo();
  // The README's example: a PoP of one's own. npm start builds it and provisions with that PoP.
  let r = await npm(repo, "menuconfig", "--", "--set", "PROV_POP=s3cret99");
  assert.equal(r.code, 0, r.err);
  r = await npm(repo, "start");
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /--- sdkconfig: SoftAP, Security 1, PoP "s3cret99" ---/);
  assert.match(r.out, /esp_prov\.py --transport softap --service_name 192\.168\.4\.1:80 --sec_ver 1 --pop s3cret99 /);
  assert.match(r.out, /\[esp_prov\] ==== Provisioning was successful ====[\s\S]*--- provisioned; the access point stopped/);
  assert.equal(payload(r.out).pop, "s3cret99");

  // Security 0 with a WPA2 access point: no PoP, and the phone is told the passphrase.
  r = await npm(repo, "menuconfig", "--", "--set", "PROV_SECURITY_VERSION=0", "--set", "PROV_SOFTAP_PASSWORD=provpass1");
  assert.equal(r.code, 0, r.err);
  r = await npm(repo, "start");
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /--- sdkconfig: SoftAP, Security 0 ---/);
  assert.match(r.out, /joins Wi-Fi network PROV_261FCC \(WPA2, passphrase provpass1\), then runs: esp_prov\.py .* --sec_ver 0 --ssid/);
  assert.match(r.out, /==== Provisioning was successful ====/);

  // BLE on the board npm start simulates (stock Espruino 2v29): it says in one line why it cannot, before building.
  r = await npm(repo, "menuconfig", "--", "--set", "PROV_TRANSPORT=ble", "--set", "PROV_SECURITY_VERSION=1");
  assert.equal(r.code, 0, r.err);
  r = await npm(repo, "start");
  assert.equal(r.code, 1);
  oneLine(r, /^start: PROV_TRANSPORT="ble" cannot provision on stock Espruino 2v29: it acknowledges a BLE write before the firmware runs, .*Use softap or both .*npm start -- --gatt deferred-write/);
  assert.doesNotMatch(r.out, /built/, "refused before building");
  // ... and shows it on an Espruino patched to answer a write after the firmware ran, saying so.
  r = await npm(repo, "start", "--", "--gatt", "deferred-write");
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /GATT deferred-write \(a patched Espruino, not stock\)/);
  assert.match(r.out, /--- sdkconfig: BLE, Security 1, PoP "s3cret99" ---/);
  assert.match(r.out, /\[esp_prov\] write\+read \/prov-session: .*[\s\S]*==== Provisioning was successful ====[\s\S]*--- provisioned; BLE stopped/);
  assert.equal(payload(r.out).transport, "ble");

  // Bad input: one line each, nothing built.
  fs.writeFileSync(path.join(repo, "sdkconfig"), "CONFIG_PROV_AUTOSTOP_S=3O\n");
  r = await npm(repo, "start");
  assert.equal(r.code, 1);
  oneLine(r, /^start: sdkconfig:1: CONFIG_PROV_AUTOSTOP_S=3O is not an integer from 5 to 600/);
  r = await npm(repo, "start", "--", "--config", "nope.sdkconfig");
  assert.equal(r.code, 1);
  oneLine(r, /^start: .*nope\.sdkconfig: cannot read the configuration \(ENOENT\)/);
  r = await npm(repo, "start", "--", "--gatt", "deferred-write", "--config", "test-host/configs/softap.sdkconfig");
  assert.equal(r.code, 2);
  oneLine(r, /^start: --gatt deferred-write is for a PROV_TRANSPORT="ble" build/);
});

test("npm test does not read the user's sdkconfig or dist/firmware.js: it builds its own configs", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
  // First the browser the portal tests drive (installed if missing), then the test builds.
  assert.match(pkg.test, /^node tools\/ensure-chromium\.mjs && npm run -s build:tests && /);
  assert.doesNotMatch(pkg.test.replace("npm run -s build:tests", ""), /build/);
  // Every build npm test (and the bench) makes names its config from test-host/configs and its own output.
  const builds = pkg["build:tests"].split("&&").map((s: string) => s.trim());
  assert.ok(builds.length >= 2);
  for (const b of builds) assert.match(b, /^node tools\/build\.mjs --config test-host\/configs\/\w+\.sdkconfig --out dist\/\w+\/firmware\.js$/);
  assert.doesNotMatch(pkg.bench, /build/, "the bench builds its own reference bundles after reading its arguments");
  // No test, nor the bench or the fuzzer, opens the root sdkconfig or the build that follows it.
  // (A scratch copy's sdkconfig, helpers.ts scratchRepo, is the test's own.)
  const userFiles = /(ROOT, |\()["'`]sdkconfig["'`]|["'`]dist\/firmware(\.debug)?\.js["'`]|loadBundle\(\)/;
  const files = [
    ...fs.readdirSync(path.join(ROOT, "test-host/tests")).map((f) => `test-host/tests/${f}`),
    ...fs.readdirSync(path.join(ROOT, "test-host/fuzz")).map((f) => `test-host/fuzz/${f}`),
    "test-host/bench.ts", "test-host/bench-session.ts", "test-host/differential.ts",
    ...fs.readdirSync(path.join(ROOT, "test-host/differential")).map((f) => `test-host/differential/${f}`),
  ].filter((f) => f.endsWith(".ts") && f !== "test-host/tests/commands.test.ts");
  for (const f of files) assert.doesNotMatch(fs.readFileSync(path.join(ROOT, f), "utf8"), userFiles, f);
});

test("every command answers --help on stdout with exit 0; build documents --out; fuzz --help builds nothing", { timeout: 120_000 }, async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
  assert.doesNotMatch(pkg.fuzz, /build/, "npm run fuzz builds its own bundles (test-host/fuzz/fuzz.ts bundles())");
  const cmds = ["start", "build", "sim", "prov", "menuconfig", "monitor", "flash", "fuzz", "bench", "differential", "label"];
  const runs = await Promise.all(cmds.map((c) => npm(ROOT, c, "--", "--help")));
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `${cmds[i]} --help: ${r.err}`);
    assert.match(r.out, /^usage: /, `${cmds[i]} --help prints its usage on stdout`);
    assert.equal(r.err, "", `${cmds[i]} --help: nothing on stderr`);
    assert.doesNotMatch(r.out, /^built /m, `${cmds[i]} --help builds nothing`);
  });
  const help = (c: string) => runs[cmds.indexOf(c)]!.out;
  // Every flag the README gives a command is one its --help documents.
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  let checked = 0;
  for (const m of readme.matchAll(/npm (?:run (\w+)|(start)) -- ([^\n`#|;]*)/g)) {
    const cmd = m[1] ?? m[2]!;
    for (const f of m[3]!.matchAll(/(?<![\w-])--[a-z][\w-]*/g)) {
      if (f[0] === "--help") continue; // every command's, tested above
      assert.ok(cmds.includes(cmd), `README runs an unknown command: ${m[0]}`);
      assert.match(help(cmd), new RegExp(`${f[0]}\\b`), `README: "${m[0].trim()}" uses ${f[0]}, which ${cmd} --help does not document`);
      checked++;
    }
  }
  assert.ok(checked > 20, `README flags checked: ${checked}`);
  assert.match(help("build"), /^\s+--out FILE\s+output bundle \(default dist\/firmware\.js\)/m);
  assert.match(help("build"), /^usage: npm run build -- \[--board ID\] \[--config FILE\] \[--out FILE\]/);
  assert.match(help("flash"), /^usage: npm run flash -- --port PORT/);
});

test("README: named for what it is, in a user's order, the two commands first, the simulator in a terminal of its own, internals in docs/", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  assert.equal(pkg.name, "espruino-wifi-prov");
  assert.equal(readme.split("\n")[0], `# ${pkg.name}`);
  assert.doesNotMatch(pkg.description + readme, /BLE provisioning|espruino-ble-prov/i, "named for the transport that does not work on a stock board");
  const headings = [...readme.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(headings, ["Quick start", "Provisioning a real board", "Using it with no board", "Building your product on it", "Configuration", "Troubleshooting", "More"]);
  const quick = readme.slice(readme.indexOf("## Quick start"));
  assert.deepEqual(/```sh\n([\s\S]*?)```/.exec(quick)![1]!.trim().split("\n").map((l) => l.split("#")[0]!.trim()), ["npm install", "npm start", "npm test"]);
  assert.doesNotMatch(readme, /npm run sim[^\n]*&\s*(#|$)/m, "the simulator is not backgrounded in the user's terminal");
  assert.match(readme, /Terminal 1 — the board[\s\S]*npm run sim[\s\S]*Terminal 2 — you/);
  assert.doesNotMatch(readme, /\bIssue \d+/i);
  // The internals live in docs/, linked: no bench tables, fuzzing figures or HTTP status lists in the README.
  assert.doesNotMatch(readme, /frames\/s|callgrind|^\| prov-session\/sec|411 without a Content-Length/m);
  for (const d of ["hardware-status", "simulator", "http", "build", "benchmark", "robustness"]) assert.match(readme, new RegExp(`\\(docs/${d}\\.md\\)`));
  // The waits it quotes have the form npm start prints (cli.test.ts runs npm start).
  assert.match(readme, /\[esp_prov\] POST \/prov-session: 41 B → 61 B after [\d.]+ s/);
});

test("bad arguments: each command says so in one line (pointing at --help) and exits 2; what the machine refuses exits 1, in one line", { timeout: 120_000 }, async () => {
  const cases: [string, string[], RegExp][] = [
    ["build", ["--bogus"], /^build: unknown argument '--bogus' \(npm run build -- --help\)/],
    ["build", ["--out"], /^build: --out needs a value \(npm run build -- --help\)/],
    ["menuconfig", ["--bogus"], /^menuconfig: unknown argument '--bogus' \(npm run menuconfig -- --help\)/],
    ["flash", ["--speed", "9600"], /^flash: unknown argument '--speed' \(npm run flash -- --help\)/],
    ["flash", ["--port"], /^flash: --port needs a value \(npm run flash -- --help\)/],
    ["start", ["--gatt", "fast"], /^start: --gatt takes deferred-write, not 'fast'/],
  ];
  const runs = await Promise.all(cases.map(([c, a]) => npm(ROOT, c, "--", ...a)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i]![0]} ${cases[i]![1].join(" ")}: ${r.err}`);
    oneLine(r, cases[i]![2]);
  });
  // What the machine refuses is exit 1, in one line too.
  const r = await npm(ROOT, "menuconfig", "--", "--config", "/nonexistent-dir/sdkconfig", "--set", "LOG_LEVEL=warn");
  assert.equal(r.code, 1);
  oneLine(r, /^menuconfig: cannot open \/nonexistent-dir\/sdkconfig: ENOENT/);
});
