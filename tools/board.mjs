#!/usr/bin/env node
// The board-side steps of flash.sh, over the Espruino REPL (serial or tcp://):
//   node tools/board.mjs check  --port P [--baud B] [--board ID] [--config FILE] --bundle FILE [--env-out FILE]
//       reads process.env first, then refuses a port that is not an Espruino REPL, a different board, an
//       Espruino older than the board file's, an Espruino build without crypto, or without BLE when the
//       bundle uses it (--config's transport is ble or both; a softap build never touches BLE: main.ts checks
//       typeof NRF before it turns BLE off), or a bundle larger than the board's budget or its free Storage. --env-out writes what the board reported as an EspruinoTools
//       board JSON (BOARD, VERSION, info.builtin_modules), which flash.sh hands to the espruino CLI's
//       --board: the CLI then knows the built-in modules without fetching www.espruino.com/json/BOARD.json
//       (EspruinoTools bin/espruino-cli.js: --board FILE sets ENV_ON_CONNECT=false and loads the file;
//       without it, it prints a "No list of built-in modules" box and an ENOTFOUND error offline).
//   node tools/board.mjs finish --port P [--baud B] --bundle FILE [--file .boot0] [--erase] [--erase-pop]
//       verifies the uploaded Storage file (length + CRC32), optionally erases the saved Wi-Fi
//       credentials and/or the board's random PoP (a new one is drawn at the next boot), and reboots the board.
//   node tools/board.mjs verify --port P [--baud B] --bundle FILE --file NAME
//       only the check of an uploaded Storage file (the web page, portal.html.gz).
// Exit 0 on success; 1 with a one-line reason otherwise; 2 for bad arguments.
import fs from "node:fs";
import zlib from "node:zlib";
import { openPort, PortError } from "./port.mjs";
import { ConfigError } from "./config.mjs";
import { readBoard, buildConfig, BoardError } from "./build-config.mjs";

/** src/prov/credentials.ts SLOTS (test-host/tests/workflow.test.ts pins that they agree). */
export const CREDENTIAL_FILES = ["prov.cred.a", "prov.cred.b"];
/** src/prov/pop.ts POP_SLOTS: the board's own random PoP (test-host/tests/app.test.ts pins that they agree). */
export const POP_FILES = ["prov.pop.a", "prov.pop.b"];

const HELP = `usage: node tools/board.mjs check  --port PORT [--baud 115200] [--board esp32] [--config sdkconfig] --bundle FILE [--env-out FILE]
       node tools/board.mjs finish --port PORT [--baud 115200] --bundle FILE [--file .boot0] [--erase] [--erase-pop]
       node tools/board.mjs verify --port PORT [--baud 115200] --bundle FILE --file NAME`;

/** "2v29" / "2v29.14" → comparable number. */
export function versionNumber(v) {
  const m = /^(\d+)v(\d+)(?:\.(\d+))?/.exec(String(v));
  return m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + (m[3] ? Math.min(Number(m[3]), 99) : 0) : NaN;
}

/** A REPL conversation: gets a prompt, then evaluates expressions with echo off (DLE), as the CLI does. */
export async function repl(spec, baud) {
  const port = await openPort(spec, baud);
  let buf = "", closed = false;
  port.onData((s) => { buf += s; });
  port.onClose(() => { closed = true; });
  const until = (test, ms) => new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => {
      const r = test(buf);
      if (r !== undefined || closed || Date.now() - t0 > ms) return resolve(r);
      setTimeout(poll, 20);
    };
    poll();
  });
  const prompt = () => until((b) => (/>\s*$/.test(b) ? true : undefined), 3000);
  port.write("\n");
  if (!(await prompt())) {
    buf = "";
    port.write("\x03\n"); // Ctrl-C clears a half-typed line (jsinteractive.c)
    if (!(await prompt())) {
      const got = JSON.stringify(buf.slice(-40));
      port.close();
      throw new BoardError(`${spec} does not answer like an Espruino REPL (no '>' prompt within 6 s${buf ? `; got ${got}` : ", no data"}): ` +
        "is it an Espruino board, at the right baud rate, and not held by another program (a monitor)?");
    }
  }
  return {
    async eval(expr, ms = 5000) {
      buf = "";
      port.write(`\x10print("<<"+"<"+JSON.stringify(${expr})+">"+">>")\n`);
      const r = await until((b) => { const m = /<<<([\s\S]*?)>>>/.exec(b); return m ? m[1] : undefined; }, ms);
      if (r === undefined) throw new BoardError(`${spec}: no answer to ${expr.slice(0, 40)} within ${ms / 1000} s` + (buf ? ` (got ${JSON.stringify(buf.slice(-80))})` : ""));
      return JSON.parse(r);
    },
    send(code) { port.write(`\x10${code}\n`); },
    close() { port.close(); },
  };
}

function readBundle(file) {
  if (!file || !fs.existsSync(file)) throw new BoardError(`bundle ${file || "(none)"} not found: run npm run build`);
  return fs.readFileSync(file);
}

const n = (x) => x.toLocaleString("en-US");

async function check(o) {
  const board = readBoard(o.board || "esp32"), bundle = readBundle(o.bundle), file = o.file || ".boot0";
  const needsBle = buildConfig({ board: board.id, config: o.config || "sdkconfig" }).transport !== "softap";
  const r = await repl(o.port, o.baud);
  try {
    const env = await r.eval("process.env");
    if (!env || typeof env.VERSION !== "string") throw new BoardError(`${o.port}: process.env has no VERSION: not an Espruino board?`);
    const want = board.espruinoBoard || board.chip.toUpperCase();
    if (env.BOARD !== want) throw new BoardError(`the board reports BOARD=${env.BOARD}, but --board ${board.id} is for ${want}: pick the matching boards/*.json`);
    if (!(versionNumber(env.VERSION) >= versionNumber(board.espruino))) {
      throw new BoardError(`the board runs Espruino ${env.VERSION}; this firmware needs ${board.espruino} or newer (flash a current build: espruino.com/ESP32)`);
    }
    const modules = String(env.MODULES || "").split(",");
    if (!modules.includes("crypto")) throw new BoardError(`this Espruino build (${env.VERSION}, MODULES=${env.MODULES}) lacks the crypto module that Security 1 needs: flash a standard ESP32 build`);
    const facts = await r.eval(`{ble:typeof NRF!="undefined",free:require("Storage").getFree(),old:(require("Storage").read(${JSON.stringify(file)})||"").length}`);
    if (!facts.ble && needsBle) throw new BoardError(`this Espruino build (${env.VERSION}) has no Bluetooth (NRF is undefined), which PROV_TRANSPORT ble/both needs: flash an ESP32 build with BLE, or use softap`);
    const room = facts.free + facts.old;
    if (bundle.length > board.bundleBudget) throw new BoardError(`the bundle is ${n(bundle.length)} bytes, larger than the ${board.id} budget of ${n(board.bundleBudget)} bytes (boards/${board.id}.json bundleBudget)`);
    if (bundle.length > room) throw new BoardError(`the bundle is ${n(bundle.length)} bytes but the board's Storage has ${n(room)} bytes free: erase unused files (require("Storage").list()) or require("Storage").eraseAll()`);
    if (o["env-out"]) fs.writeFileSync(o["env-out"], JSON.stringify({ BOARD: env.BOARD, VERSION: env.VERSION, info: { builtin_modules: modules } }) + "\n");
    console.log(`board: ${env.BOARD}, Espruino ${env.VERSION}, ${facts.ble ? "BLE and crypto present" : "crypto present, no BLE (this SoftAP build does not use it)"}; bundle ${n(bundle.length)} B fits (Storage room ${n(room)} B, budget ${n(board.bundleBudget)} B)`);
  } finally {
    r.close();
  }
}

/** Checks that Storage `file` on the board holds exactly the bytes of local file `local` (length + CRC32). */
async function verifyFile(r, file, bundle, local) {
  const got = await r.eval(`(function(s){return s?{len:s.length,crc:E.CRC32(s)>>>0}:null})(require("Storage").read(${JSON.stringify(file)}))`);
  const crc = zlib.crc32 ? zlib.crc32(bundle) >>> 0 : undefined;
  if (!got) throw new BoardError(`upload failed: Storage has no ${file} after the upload`);
  if (got.len !== bundle.length || (crc !== undefined && got.crc !== crc)) {
    throw new BoardError(`upload failed: ${file} on the board is ${n(got.len)} bytes (CRC32 ${got.crc.toString(16)}), ${local} is ${n(bundle.length)} bytes (CRC32 ${crc?.toString(16)}); run flash again`);
  }
  console.log(`verified: ${file} on the board is ${n(got.len)} bytes, CRC32 ${got.crc.toString(16).padStart(8, "0")}, same as ${local}`);
}

async function verify(o) {
  if (!o.file) throw new BoardError("verify needs --file NAME (the Storage file to check)");
  const r = await repl(o.port, o.baud);
  try {
    await verifyFile(r, o.file, readBundle(o.bundle), o.bundle);
  } finally {
    r.close();
  }
}

async function finish(o) {
  const bundle = readBundle(o.bundle), file = o.file || ".boot0";
  const r = await repl(o.port, o.baud);
  try {
    await verifyFile(r, file, bundle, o.bundle);
    for (const [flag, files, what] of [["erase", CREDENTIAL_FILES, "saved Wi-Fi credentials"], ["erase-pop", POP_FILES, "the board's PoP (a new one is drawn at boot: print a new label)"]]) {
      if (!o[flag]) continue;
      const left = await r.eval(`(function(S){${files.map((f) => `S.erase(${JSON.stringify(f)});`).join("")}return ${files.map((f) => `S.read(${JSON.stringify(f)})`).join("||")}||""})(require("Storage"))`);
      if (left) throw new BoardError(`erasing ${what} failed`);
      console.log(`erased ${what} (${files.join(", ")})`);
    }
    r.send("E.reboot()");
    await new Promise((res) => setTimeout(res, 300)); // let the line leave before closing the port
    console.log("rebooting the board");
  } finally {
    r.close();
  }
}

async function main(argv) {
  const cmd = argv[0], o = {};
  if (cmd === "--help" || cmd === "-h") { console.log(HELP); return 0; }
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--erase" || a === "--erase-pop") o[a.slice(2)] = true;
    else if (/^--(port|baud|board|config|bundle|file|env-out)$/.test(a) && argv[i + 1] !== undefined) o[a.slice(2)] = argv[++i];
    else { console.error(`board: unknown argument '${a}'\n${HELP}`); return 2; }
  }
  if (cmd !== "check" && cmd !== "finish" && cmd !== "verify") { console.error(HELP); return 2; }
  o.baud = Number(o.baud || 115200);
  try {
    await (cmd === "check" ? check(o) : cmd === "verify" ? verify(o) : finish(o));
    return 0;
  } catch (e) {
    if (e instanceof BoardError || e instanceof PortError || e instanceof ConfigError) { console.error(`flash: ${e.message}`); return 1; }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2)).then((c) => process.exit(c));
