/**
 * npm run prov -- [options]: provisions a device like esp_prov.py (same flag names), over SoftAP/HTTP
 * (the board's 192.168.4.1:80, or npm run sim's --http-port) or the simulator's virtual BLE central. Exit 0 only when the device reports Wi-Fi Connected;
 * any failure prints ONE line saying what failed and what to check, and exits non-zero (no stack trace
 * for the failures a user can meet: nothing listening, no device, wrong PoP, security mismatch, Wi-Fi).
 * Flags live in FLAGS; transports are made in openTransport only.
 */
import { bleTransport, tcpCentral, DEFAULT_GATT_PORT, DeviceNotFound, Transport } from "./transport";
import { ctrl, provision, ProvError, startSession } from "./esp-prov";
import { DEFAULT_HTTP_PORT, HttpError, httpTransport, tcpHttpSend } from "./http-transport";

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
  sec_ver: { arg: "0|1", check: oneOf("0", "1"), help: "security version (default: the one the device reports in proto-ver)" },
  pop: { arg: "POP", def: "", help: "proof of possession for Security 1: the board's own (in its QR payload line; npm run label prints it), or PROV_POP in fixed mode" },
  ssid: { arg: "SSID", help: "Wi-Fi network the device should join (required)" },
  passphrase: { arg: "PASS", def: "", help: "its password (default: none, an open network)" },
  poll_interval: { arg: "S", def: "5", check: seconds, help: "seconds between Wi-Fi status polls (esp_prov waits 5)" },
  custom_data: { arg: "TEXT", help: "send TEXT to the custom-data endpoint after the session and print its reply" },
  reset: { help: "prov-ctrl reset: after a failed attempt, make the device accept new credentials; then exit" },
  reprov: { help: "prov-ctrl reprov: make a provisioned device forget its network and accept new credentials; then exit" },
};

const HELP = `usage: npm run prov -- --ssid SSID [--passphrase PASS] [--sec_ver 0|1] [--pop POP] [options]
       npm run prov -- --reset | --reprov [--sec_ver 0|1] [--pop POP] [options]
Sends Wi-Fi credentials to a device in provisioning mode, as ESP-IDF's esp_prov.py does, and waits until it
reports Connected. Exit status: 0 connected, 1 provisioning failed, 2 bad arguments.
${Object.entries(FLAGS).map(([k, f]) => `  ${`--${k} ${f.arg ?? ""}`.padEnd(22)}${f.help}${f.def ? ` (default ${f.def})` : ""}`).join("\n")}
  --help                this text
Examples, with the simulator started by \`npm run sim\` (same default ports):
  npm run prov -- --sec_ver 1 --pop abcd1234 --ssid myssid --passphrase mypassword
  npm run prov -- --transport ble --sec_ver 1 --pop abcd1234 --ssid myssid --passphrase mypassword   (a BLE build)
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
  if (o.ssid === undefined && !o.reset && !o.reprov) throw new UsageError("--ssid is required (or --reset / --reprov)");
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
  const asked = o.sec_ver === undefined ? undefined : Number(o.sec_ver);
  if (asked !== undefined && devSec !== undefined && asked !== devSec && p.sessionMsgs > 0) {
    return `security-version mismatch: the device uses Security ${devSec}, you asked for --sec_ver ${asked} (omit --sec_ver to use the device's)`;
  }
  const sec = asked ?? devSec;
  const limit = softap ? "the 60 s HTTP timeout" : "the 30 s BLE transaction limit";
  if (sec === 1 && p.sessionMsgs === 2 && p.configMsgs === 0) {
    if (/timed out/.test(msg)) return `the device did not answer SessionCmd1 within ${limit}: Security 1's key exchange is too slow at this interpreter speed (simulator: a smaller --slowdown)`;
    if (!o.pop) return `the device needs a proof of possession: pass --pop (the board's PoP from its QR payload line or npm run label; PROV_POP in fixed mode); it rejected the session (${msg})`;
    return `wrong proof of possession: the device rejected the session (${msg}); check --pop against the firmware's PROV_POP (fixed mode) or the board's own PoP (its QR payload line, npm run label)`;
  }
  if (/timed out/.test(msg)) {
    return `the device did not answer ${p.last ?? "the request"} within ${limit}: its interpreter stayed busy that long ` +
      "(an X25519 costs about 22 s at the simulator's default slow-down); retry, or run the simulator with a smaller --slowdown (e.g. 100)";
  }
  // SetConfig statuses (wifi_constants.proto Status): 4 InvalidArgument, 5 InternalError.
  if (/^SetConfig failed with status 4/.test(msg)) return "the device refused the credentials as invalid (SetConfig InvalidArgument): the SSID must be at most 31 bytes and the passphrase at most 63 (what Espruino's Wifi.connect keeps)";
  if (/^SetConfig failed with status 5/.test(msg)) return "the device refused new credentials (SetConfig InternalError): it is already connected with the ones it has; to provision it again erase them (npm run flash -- --erase, or reprovision() at its REPL)";
  if (e instanceof ProvError) return msg;
  return `provisioning failed: ${msg}`;
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
      const s = await startSession(t, { secVer: o.sec_ver === undefined ? undefined : (Number(o.sec_ver) as 0 | 1), pop: o.pop, print: console.log });
      console.log(o.reset ? "==== Resetting WiFi====" : "==== Reprovisioning WiFi====");
      const st = await ctrl(s, o.reset ? "reset" : "reprov");
      if (st === 0) return 0;
      console.error(`prov: the device refused ${o.reset ? "reset (it resets only after a failed connection attempt)" : "reprov"} (status ${st})`);
      return 1;
    }
    const interval = Number(o.poll_interval) * 1000;
    const r = await provision(t, {
      secVer: o.sec_ver === undefined ? undefined : (Number(o.sec_ver) as 0 | 1), pop: o.pop, ssid: o.ssid!, passphrase: o.passphrase!,
      sleep: (ms) => new Promise((res) => setTimeout(res, (ms * interval) / 5000)), print: console.log,
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
