/**
 * npm start: builds the firmware from the user's configuration (sdkconfig, or --config FILE) into
 * dist/firmware.js as npm run build does, boots it in the simulator at its default timing, and provisions
 * it with the project's esp_prov-like client using what that configuration says (transport, security
 * version, PoP, SoftAP passphrase, proto-ver style); prints the board's serial log, its QR code, the
 * client's milestones and each reply's wait.
 */
import path from "node:path";
import { SimDevice, loadBundle } from "./sim/device";
import { httpTransport, simHttpSend } from "./client/http-transport";
import { bleTransport, simCentral, Transport } from "./client/transport";
import { provision } from "./client/esp-prov";
import { DEFAULT_WORLD } from "./sim/wifi";
import { DEFAULT_SLOWDOWN } from "./sim/scheduler";
import { qrBlock, qrPayload } from "../tools/qr.mjs";
import { build } from "../tools/build.mjs";
import { buildConfig } from "../tools/build-config.mjs";
import { readConfig, root } from "../tools/config.mjs";

const HELP = `usage: npm start [-- --config FILE] [--gatt deferred-write]
Builds the firmware from your configuration (as npm run build: dist/firmware.js), boots it on a simulated
ESP32 running Espruino 2v29 at the simulator's calibrated timing, and provisions it as a phone would, with
the esp_prov-like client and what the configuration says: transport, security version, PoP, SoftAP
passphrase (Wi-Fi network myssid / mypassword). Prints the board's serial log, its QR code, the client's
milestones and how long each reply took. Exit 0 when the board ends up connected.
  --config FILE          configuration (default sdkconfig; edit with npm run menuconfig)
  --gatt deferred-write  for PROV_TRANSPORT="ble": simulate an Espruino patched to acknowledge a BLE write only
                         after the firmware ran. Stock 2v29 acknowledges it first, so a BLE client reads its
                         own request back: without this flag npm start refuses a ble build in one line.
PROV_TRANSPORT="both" is provisioned over SoftAP (BLE advertises too, but cannot provision on stock 2v29).
For a simulator that keeps running: npm run sim -- --help.`;

const fail = (msg: string, code = 1): never => { console.error(`start: ${msg}`); process.exit(code); };
const o: { config: string; gatt?: string } = { config: "sdkconfig" };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "--help" || a[i] === "-h") { console.log(HELP); process.exit(0); }
    if ((a[i] === "--config" || a[i] === "--gatt") && a[i + 1] !== undefined && !a[i + 1]!.startsWith("--")) o[a[i]!.slice(2) as "config"] = a[++i]!;
    else fail(`unknown or incomplete argument '${a[i]}' (npm start -- --help)`, 2);
  }
  if (o.gatt !== undefined && o.gatt !== "deferred-write") fail(`--gatt takes deferred-write, not '${o.gatt}' (npm start -- --help)`, 2);
}

let cfg: ReturnType<typeof buildConfig>;
try {
  cfg = buildConfig({ board: "esp32", config: o.config });
} catch (e) {
  fail((e as Error).message); // a bad value: file, line, option, value and what is allowed (tools/config.mjs)
}
const c = cfg!;
// The board file says how its Espruino acknowledges GATT writes: stock 2v29 before the firmware runs, so no
// BLE exchange can succeed there (docs/hardware-status.md). Refuse before building rather than show a failure.
const deferred = o.gatt === "deferred-write";
const overBle = c.transport === "ble";
if (overBle && c.board.bleWriteAck === "before-js" && !deferred) {
  fail(`PROV_TRANSPORT="ble" cannot provision on stock Espruino ${c.board.espruino}: it acknowledges a BLE write before the firmware runs, ` +
    `so the client reads its own request back. Use softap or both (npm run menuconfig), or npm start -- --gatt deferred-write for a patched Espruino`);
}
if (deferred && !overBle) fail(`--gatt deferred-write is for a PROV_TRANSPORT="ble" build; this one provisions over SoftAP`, 2);

try {
  const info = await build({ board: "esp32", config: o.config });
  console.log(`built ${info.out} from ${o.config}: ${info.bytes} bytes`);
} catch (e) {
  fail(`build failed: ${(e as Error).message}`);
}
// Security 2 with a fixed PoP: the firmware holds only its verifier; the phone's user knows the password (sdkconfig).
const sec2Pwd: string = c.secVer === 2 && c.popMode === "fixed" ? readConfig(path.resolve(root, o.config)).PROV_POP : "";
const security = c.secVer === 1 ? `Security 1, ${c.popMode === "random" ? "the board's own random PoP" : c.pop ? `PoP "${c.pop}"` : "no PoP"}`
  : c.secVer === 2 ? `Security 2, username "${c.sec2User}", ${c.popMode === "random" ? "the board's own random PoP" : `password "${sec2Pwd}"`}` : "Security 0";
console.log(`--- simulated ESP32, Espruino ${c.board.espruino}${deferred ? ", GATT deferred-write (a patched Espruino, not stock)" : ""}, ` +
  `${c.board.cpuMhz} MHz, ${DEFAULT_SLOWDOWN} cycles per interpreter instruction (the cost model's default) ---`);
console.log(`--- ${o.config}: ${c.transport === "both" ? "BLE and SoftAP (provisioned over SoftAP)" : overBle ? "BLE" : "SoftAP"}, ${security} ---`);
// The payload line is followed by its QR code, as ESP-IDF's example prints it (tools/qr.mjs).
const color = !!process.stdout.isTTY && process.env.NO_COLOR === undefined;
const echo = (l: string) => { console.log(l); const qr = qrBlock(l, { color }); if (qr) console.log(qr.join("\n")); };
const d = new SimDevice({ world: DEFAULT_WORLD, echo, gatt: deferred ? "deferred-write" : "espruino-2v29" });
d.install(loadBundle(path.join(root, "dist/firmware.js")));
d.boot();
/** A log line already printed (boot logs synchronously) or, failing that, one within ms of device time. */
const logged = (re: RegExp, ms: number) => d.lines().some((l) => re.test(l)) || d.waitFor(re, ms) !== undefined;
// Ready when BLE advertises, or when the access point is up (its callback may log before or after the SSID line).
if (!logged(overBle ? /Provisioning started with BLE devname : / : /SoftAP started at/, 120000)) {
  fail(overBle ? "the simulated board did not start BLE provisioning (see its log above)" : "the simulated board's access point did not come up (see its log above)");
}
const nameRe = overBle ? /BLE devname : (\S+)/ : /SoftAP Provisioning started with SSID '([^']*)'/;
const name = d.lines().map((l) => nameRe.exec(l)?.[1]).filter(Boolean).pop()!;
// Over BLE each reply must come within the client's 30 s ATT timeout: SessionCmd0 right after boot would wait for
// the device key pair and then the shared secret (two X25519s), so the phone connects once the key pair is ready.
if (overBle && c.secVer === 1 && !logged(/security1: Device key pair ready/, 120000)) fail("the simulated board never made its key pair (see its log above)");
if (overBle && c.secVer === 2 && !logged(/security2: Device public key ready/, 120000)) fail("the simulated board never made its SRP public key (see its log above)");
// The PoP as the phone gets it: from the QR payload the board logged (by default each board draws its own).
const payload = d.lines().map((l) => qrPayload(l) as string | undefined).find(Boolean);
const pop: string = (payload ? JSON.parse(payload).pop : undefined) ?? sec2Pwd;
const popArg = c.secVer === 1 && pop ? ` --pop ${pop}` : c.secVer === 2 ? ` --sec2_username ${c.sec2User} --sec2_pwd ${pop}` : "";
console.log(overBle
  ? `        [phone] finds ${name} over BLE, then runs: esp_prov.py --transport ble --service_name ${name} --sec_ver ${c.secVer}${popArg} --ssid myssid --passphrase mypassword`
  : `        [phone] joins Wi-Fi network ${name} (${c.softapPassword ? `WPA2, passphrase ${c.softapPassword}` : "open"}), then runs: ` +
    `esp_prov.py --transport softap --service_name 192.168.4.1:80 --sec_ver ${c.secVer}${popArg} --ssid myssid --passphrase mypassword`);

const era = c.versionStyle === "seed" ? "seed" : "modern";
let link: Transport;
try {
  link = overBle ? await bleTransport(simCentral(d), { era }) : httpTransport(simHttpSend(d));
} catch (e) {
  fail(`the client could not connect: ${(e as Error).message}`);
}
const t = {
  async exchange(ep: string, data: Uint8Array) {
    const t0 = d.sched.now;
    const x = await link!.exchange(ep, data);
    console.log(`        [esp_prov] ${overBle ? "write+read" : "POST"} /${ep}: ${data.length} B → ${x.length} B after ${((d.sched.now - t0) / 1000).toFixed(1)} s`);
    return x;
  },
  close: () => link!.close(),
};
let r;
try {
  r = await provision(t, {
    secVer: c.secVer as 0 | 1 | 2, pop, sec2User: c.sec2User, sec2Pwd: pop, era, protoVer: c.versionString, ssid: "myssid", passphrase: "mypassword",
    sleep: async (ms) => d.run(ms), print: (l) => console.log("        [esp_prov] " + l),
  });
  if (overBle && d.ble.connected) await t.close();
} catch (e) {
  fail(`provisioning failed: ${(e as Error).message}`);
}
if (!r!.ok) fail(`provisioning failed: the board reports ${r!.state}${r!.failReason ? ` (${r!.failReason})` : ""} (see its log above)`);
// The auto-stop delay (PROV_AUTOSTOP_S) keeps provisioning up so the client can read Connected, then stops it.
if (!logged(/Provisioning stopped/, c.autoStopMs + 20000)) fail(`provisioning did not stop within PROV_AUTOSTOP_S (${c.autoStopMs / 1000} s) after the board got its IP (see its log above)`);
d.run(2000);
console.log(`--- provisioned; ${overBle ? "BLE stopped" : "the access point stopped"}, the board stays on myssid ---`);
process.exit(0);
