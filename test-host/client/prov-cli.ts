/**
 * npm run prov -- [options]: provisions a device like esp_prov.py (same flag names), over SoftAP/HTTP
 * (the board's 192.168.4.1:80, or npm run sim's --http-port) or the simulator's virtual BLE central. Exit 0 only when the device reports Wi-Fi Connected;
 * any failure prints ONE line saying what failed and what to check, and exits non-zero (no stack trace
 * for the failures a user can meet: nothing listening, no device, wrong PoP, security mismatch, Wi-Fi).
 * Flags live in FLAGS; transports are made in openTransport only.
 */
import { bleTransport, tcpCentral, DEFAULT_GATT_PORT, DeviceNotFound, Transport } from "./transport";
import { ctrl, EchoedRequest, provision, ProvError, scanNetworks, ScannedAp, startSession, WrongReply } from "./esp-prov";
import { CONNECT_TIMEOUT_MS, ConnectTimeout, DEFAULT_HTTP_PORT, HttpError, httpTransport, tcpHttpSend } from "./http-transport";

interface Flag { arg?: string; def?: string; help: string; check?: (v: string) => string | undefined }
const oneOf = (...allowed: string[]) => (v: string) => (allowed.includes(v) ? undefined : `must be ${allowed.join(" or ")}`);
const tcpPort = (v: string) => (/^\d+$/.test(v) && +v >= 1 && +v <= 65535 ? undefined : "must be a TCP port number (1-65535)");
const seconds = (v: string) => (/^\d+(\.\d+)?$/.test(v) ? undefined : "must be a number of seconds");

/** Every flag `npm run prov` takes (esp_prov.py's names where it has one). */
const hostPort = (v: string) => (/^[A-Za-z0-9._-]+(:\d{1,5})?$/.test(v) ? undefined : "must be HOST or HOST:PORT for softap, a device name for ble");
const FLAGS: Record<string, Flag> = {
  transport: { arg: "MODE", def: "softap", check: oneOf("softap", "ble"), help: "softap: HTTP to the board's access point (the default build); ble: the simulator's virtual BLE central" },
  service_name: { arg: "NAME", check: hostPort, help: `softap: HOST:PORT of the board (192.168.4.1:80 once joined to its PROV_ network; default 127.0.0.1:${DEFAULT_HTTP_PORT}, npm run sim's --http-port); ble: the device name, e.g. PROV_261FCC (default: the first one advertising)` },
  port: { arg: "N", def: String(DEFAULT_GATT_PORT), check: tcpPort, help: "ble: the simulator's virtual-central port (npm run sim -- --gatt-port N)" },
  sec_ver: { arg: "0|1|2", check: oneOf("0", "1", "2"), help: "security version (default: the one the device reports in proto-ver)" },
  pop: { arg: "POP", def: "", help: "proof of possession for Security 1: the board's own (in its QR payload line; npm run label prints it), or PROV_POP in fixed mode" },
  sec2_username: { arg: "U", def: "wifiprov", help: "Security 2 username: the firmware's PROV_SEC2_USERNAME (in its QR payload line)" },
  sec2_pwd: { arg: "P", help: "Security 2 password: the board's PoP (as --pop; default: the --pop value)" },
  ssid: { arg: "SSID", help: "Wi-Fi network the device should join (without it: list the networks the device scans, as esp_prov does, then exit)" },
  passphrase: { arg: "PASS", def: "", help: "its password (default: none, an open network)" },
  poll_interval: { arg: "S", def: "5", check: seconds, help: "seconds between Wi-Fi status polls (esp_prov waits 5)" },
  custom_data: { arg: "TEXT", help: "send TEXT to the custom-data endpoint after the session and print its reply" },
  reset: { help: "prov-ctrl reset: after a failed attempt, make the device accept new credentials; then exit" },
  reprov: { help: "prov-ctrl reprov: make a provisioned device forget its network and accept new credentials; then exit" },
};

const HELP = `usage: npm run prov -- --ssid SSID [--passphrase PASS] [--sec_ver 0|1|2] [--pop POP | --sec2_pwd P] [options]
       npm run prov -- [--sec_ver 0|1|2] [--pop POP] [options]          (no --ssid: list the networks the device sees)
       npm run prov -- --reset | --reprov [--sec_ver 0|1|2] [--pop POP] [options]
Sends Wi-Fi credentials to a device in provisioning mode, as ESP-IDF's esp_prov.py does, and waits until it
reports Connected. Exit status: 0 connected (or networks listed), 1 provisioning failed, 2 bad arguments.
${Object.entries(FLAGS).map(([k, f]) => `  ${`--${k} ${f.arg ?? ""}`.padEnd(22)}${f.help}${f.def ? ` (default ${f.def})` : ""}`).join("\n")}
  --help                this text
Examples, with the simulator started by \`npm run sim\` (same default ports):
  npm run prov -- --sec_ver 1 --pop abcd1234 --ssid myssid --passphrase mypassword
  npm run prov -- --transport ble --sec_ver 1 --pop abcd1234 --ssid myssid --passphrase mypassword   (a BLE build)
  npm run prov -- --sec_ver 2 --sec2_username wifiprov --sec2_pwd abcd1234 --ssid myssid --passphrase mypassword   (a Security 2 build)
A real board, after joining its PROV_xxxxxx access point:
  npm run prov -- --service_name 192.168.4.1:80 --pop abcd1234 --ssid myssid --passphrase mypassword`;

class UsageError extends Error {}

/** Parses `--name value` / `--name=value`; unknown, repeated, missing or malformed flags are refused. */
function parseFlags(argv: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m) throw new UsageError(`unexpected argument '${argv[i]}' (flags start with --)`);
    const name = m[1]!, f = FLAGS[name];
    if (f && !f.arg) {
      // A switch: no value.
      if (m[2] !== undefined) throw new UsageError(`--${name} takes no value`);
      if (name in o) throw new UsageError(`--${name} given twice`);
      o[name] = "1";
      continue;
    }
    if (!f) {
      const near = Object.keys(FLAGS).find((k) => editDistance(k, name) <= 2);
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ""}`);
    }
    let v = m[2];
    if (v === undefined) {
      v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value (${f.arg})`);
      i++;
    }
    if (name in o) throw new UsageError(`--${name} given twice`);
    const bad = f.check?.(v);
    if (bad) throw new UsageError(`--${name} ${bad}, not '${v}'`);
    o[name] = v;
  }
  if (o.reset && o.reprov) throw new UsageError("--reset and --reprov exclude each other");
  if (o.ssid === undefined && o.passphrase !== undefined) throw new UsageError("--passphrase needs --ssid (without --ssid prov only lists the networks)");
  for (const [k, f] of Object.entries(FLAGS)) if (o[k] === undefined && f.def !== undefined) o[k] = f.def;
  return o;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length]!;
}

/** HOST:PORT of the board for softap. */
function httpTarget(o: Record<string, string>): { host: string; port: number } {
  const [host, port] = (o.service_name || `127.0.0.1:${DEFAULT_HTTP_PORT}`).split(":");
  return { host: host!, port: Number(port || 80) };
}

/** --sec_ver as a number, or undefined: the device's own (from proto-ver). */
const secVerOf = (o: Record<string, string>) => (o.sec_ver === undefined ? undefined : (Number(o.sec_ver) as 0 | 1 | 2));
/** What startSession needs from the flags. */
const sessionOpts = (o: Record<string, string>) => ({ secVer: secVerOf(o), pop: o.pop, sec2User: o.sec2_username, sec2Pwd: o.sec2_pwd ?? o.pop, print: console.log });

/** The one place a transport is made from the flags. */
async function openTransport(o: Record<string, string>): Promise<Transport> {
  if (o.transport === "softap") {
    const { host, port } = httpTarget(o);
    console.log(`++++ Connecting to ${host}:${port}++++`);
    return httpTransport(tcpHttpSend(host, port), { host });
  }
  return bleTransport(tcpCentral(Number(o.port)), { name: o.service_name });
}

/** Where the client was when something failed, to say what to check. */
interface Progress { protoVer?: string; sessionMsgs: number; configMsgs: number; last?: string }

/** One line for a failure: what failed and what to check. */
function explain(e: unknown, o: Record<string, string>, p: Progress): string {
  const msg = (e as Error)?.message ?? String(e), code = (e as NodeJS.ErrnoException)?.code;
  const softap = o.transport === "softap", where = softap ? `${httpTarget(o).host}:${httpTarget(o).port}` : "";
  if (e instanceof EchoedRequest) {
    return softap
      ? `${where} answered ${e.endpoint} with the very request it was sent, which no provisioning device does: check --service_name`
      : `the board acknowledges BLE writes before the firmware runs (stock Espruino), so reading ${e.endpoint} returned the request just written, not the device's reply: use SoftAP (CONFIG_PROV_TRANSPORT=softap, npm run menuconfig)`;
  }
  if (e instanceof ConnectTimeout) {
    return `no connection to ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: this computer is probably not joined to the board's PROV_xxxxxx access point (join it, then retry), or the board is off or no longer provisioning`;
  }
  if (e instanceof HttpError && e.status === 503 && /refused for \d+ s/.test(e.body)) {
    const s = /refused for (\d+) s/.exec(e.body)![1];
    return `the device locks out new sessions after repeated wrong proofs of possession: retry in ${s} s with the right --pop (the firmware's PROV_POP), or power-cycle the board (the first session after a boot is let in)`;
  }
  if (softap && /nothing listens on/.test(msg)) {
    return `nothing is listening on ${where}: start the simulator (npm run sim, HTTP on 127.0.0.1:${DEFAULT_HTTP_PORT}) or join the board's PROV_xxxxxx network and pass --service_name 192.168.4.1:80`;
  }
  if (softap && e instanceof HttpError && /EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET/.test(msg)) {
    return `cannot reach ${where} (${msg}): is this computer joined to the board's PROV_xxxxxx access point, and is the board still provisioning?`;
  }
  if (code === "ECONNREFUSED") return `nothing is listening on 127.0.0.1:${o.port}: start the simulator (npm run sim) or pass --port with its --gatt-port`;
  if (code) return `cannot reach 127.0.0.1:${o.port}: ${code}`;
  if (e instanceof DeviceNotFound) {
    return o.service_name
      ? `no device named ${o.service_name} is advertising: check --service_name (the board's log says "devname : PROV_…")`
      : "no device is advertising: is it in provisioning mode and free? (a provisioned board stops advertising: npm run flash -- --erase, or reprovision() at its REPL; another client may hold the link)";
  }
  let devSec: number | undefined;
  try { devSec = JSON.parse(p.protoVer ?? "").prov.sec_ver; } catch { /* seed-era or unreadable proto-ver */ }
  const asked = secVerOf(o);
  if (asked !== undefined && devSec !== undefined && asked !== devSec && p.sessionMsgs > 0) {
    return `security-version mismatch: the device uses Security ${devSec}, you asked for --sec_ver ${asked} (omit --sec_ver to use the device's)`;
  }
  // Over BLE a refused session is a dropped link, with no reason the client can read; the PoP lock-out is the one
  // refusal of a well-formed SessionCmd0 (src/protocomm/security1.ts, throttle.ts).
  if (!softap && p.last === "SessionCmd0" && /link dropped/.test(msg)) {
    return "the device dropped the link at SessionCmd0: after repeated wrong proofs of possession it refuses new sessions " +
      "for 10 s, doubling up to 5 min (its log says \"session refused for N s\"); retry later with the right --pop, or power-cycle the board";
  }
  const sec = asked ?? devSec;
  const limit = softap ? "the 60 s HTTP timeout" : "the 30 s BLE transaction limit";
  if (sec === 2 && p.sessionMsgs === 2 && p.configMsgs === 0) {
    if (/timed out/.test(msg)) return `the device did not answer SessionCmd1 within ${limit}: its SRP6a exponentiations took too long (simulator: a smaller --slowdown)`;
    return `wrong Security 2 username or password: the device rejected the session proof (${msg}); check --sec2_username against the firmware's PROV_SEC2_USERNAME and --sec2_pwd against its PoP (QR payload line, npm run label; PROV_POP in fixed mode)`;
  }
  if (sec === 1 && p.sessionMsgs === 2 && p.configMsgs === 0) {
    if (/timed out/.test(msg)) return `the device did not answer SessionCmd1 within ${limit}: Security 1's key exchange is too slow at this interpreter speed (simulator: a smaller --slowdown)`;
    if (!o.pop) return `the device needs a proof of possession: pass --pop (the board's PoP from its QR payload line or npm run label; PROV_POP in fixed mode); it rejected the session (${msg})`;
    return `wrong proof of possession: the device rejected the session (${msg}); check --pop against the firmware's PROV_POP (fixed mode) or the board's own PoP (its QR payload line, npm run label)`;
  }
  if (/timed out/.test(msg)) {
    return `the device did not answer ${p.last ?? "the request"} within ${limit}: its interpreter stayed busy that long ` +
      "(an X25519 costs about 8 s at the simulator's default timing); retry, or run the simulator with a smaller --slowdown (e.g. 0.05)";
  }
  // SetConfig statuses (wifi_constants.proto Status): 4 InvalidArgument, 5 InternalError.
  if (/^SetConfig failed with status 4/.test(msg)) return "the device refused the credentials as invalid (SetConfig InvalidArgument): the SSID must be at most 31 bytes and the passphrase at most 63 (what Espruino's Wifi.connect keeps)";
  if (/^SetConfig failed with status 5/.test(msg)) return "the device refused new credentials (SetConfig InternalError): it is already connected with the ones it has; to provision it again erase them (npm run flash -- --erase, or reprovision() at its REPL)";
  if (e instanceof WrongReply) return `the device's answer is not the reply to what was sent (${msg}): is the firmware at ${softap ? where : `port ${o.port}`} a provisioning build of this project?`;
  if (e instanceof ProvError) return msg;
  return `provisioning failed: ${msg}`;
}

/** esp_prov.py without --ssid: scan from the device and print its table (prov/wifi_scan.py's auth names). */
async function listNetworks(t: Transport, o: Record<string, string>, p: Progress): Promise<number> {
  const s = await startSession(t, sessionOpts(o));
  let cap: string[] | undefined;
  try { cap = JSON.parse(p.protoVer ?? "").prov.cap; } catch { /* a device without capabilities in proto-ver */ }
  if (cap && !cap.includes("wifi_scan")) throw new ProvError("the device offers no Wi-Fi scan (no wifi_scan in its proto-ver capabilities): pass --ssid");
  console.log("\n==== Scanning Wi-Fi APs ====");
  const t0 = performance.now();
  const aps: ScannedAp[] = await scanNetworks(s);
  console.log(`\n++++ Scan finished in ${(performance.now() - t0) / 1000} sec`);
  if (!aps.length) { console.log("No APs found!"); return 0; }
  const AUTH = ["Open", "WEP", "WPA_PSK", "WPA2_PSK", "WPA_WPA2_PSK", "WPA2_ENTERPRISE", "WPA3_PSK", "WPA2_WPA3_PSK"];
  console.log("==== Wi-Fi Scan results ====");
  console.log(`${"S.N.".padStart(4)} ${"SSID".padEnd(33)} ${"BSSID".padEnd(12)} ${"CHN".padStart(4)} ${"RSSI".padEnd(4)} ${"AUTH".padEnd(16)}`);
  aps.forEach((a, i) => console.log(`[${String(i + 1).padStart(2)}] ${a.ssid.padEnd(33)} ${a.bssid.padEnd(12)} ${String(a.channel).padStart(4)} ${String(a.rssi).padEnd(4)} ${(AUTH[a.auth] ?? String(a.auth)).padEnd(16)}`));
  console.log("Provision one with: npm run prov -- --ssid SSID --passphrase PASS (and the same --pop / --service_name)");
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) { console.log(HELP); return 0; }
  let o: Record<string, string>;
  try { o = parseFlags(argv); } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`prov: ${e.message}; npm run prov -- --help lists the flags`);
    return 2;
  }
  const p: Progress = { sessionMsgs: 0, configMsgs: 0 };
  let t: Transport | undefined;
  try {
    const raw = await openTransport(o);
    t = {
      async exchange(ep, data) {
        p.last = ep === "prov-session" ? `SessionCmd${p.sessionMsgs}` : ep;
        if (ep === "prov-session") p.sessionMsgs++;
        if (ep === "prov-config") p.configMsgs++;
        const r = await raw.exchange(ep, data);
        if (ep === "proto-ver") p.protoVer = Buffer.from(r).toString("latin1");
        return r;
      },
      close: () => raw.close(),
    };
    if (o.reset || o.reprov) {
      const s = await startSession(t, sessionOpts(o));
      console.log(o.reset ? "==== Resetting WiFi====" : "==== Reprovisioning WiFi====");
      const st = await ctrl(s, o.reset ? "reset" : "reprov");
      if (st === 0) return 0;
      console.error(`prov: the device refused ${o.reset ? "reset (it resets only after a failed connection attempt)" : "reprov"} (status ${st})`);
      return 1;
    }
    if (o.ssid === undefined) return await listNetworks(t, o, p);
    const interval = Number(o.poll_interval) * 1000;
    const r = await provision(t, {
      ...sessionOpts(o), ssid: o.ssid!, passphrase: o.passphrase!,
      sleep: (ms) => new Promise((res) => setTimeout(res, (ms * interval) / 5000)),
      customData: o.custom_data,
    });
    if (r.ok) return 0;
    const why = r.failReason === "Incorrect Password" ? `wrong password (AuthError): check --passphrase for ${o.ssid}`
      : r.failReason === "Incorrect SSID" ? `network not found (NetworkNotFound): check --ssid '${o.ssid}' and that the access point is in range`
      : "the device lost the connection: check the access point";
    console.error(`prov: the device could not join Wi-Fi ${o.ssid}: ${why}`);
    return 1;
  } catch (e) {
    console.error(`prov: ${explain(e, o, p)}`);
    return 1;
  } finally {
    await t?.close().catch(() => {});
  }
}

main(process.argv.slice(2)).then((c) => process.exit(c));
