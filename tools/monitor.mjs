#!/usr/bin/env node
// npm run monitor -- --port PORT [--baud 115200] [--no-reset] [--no-color]
// The board's serial console, like `idf.py monitor`: ESP-IDF log lines (`I (550) app: …`) coloured by
// level (E red, W yellow, I green, D/V plain), keystrokes go to the Espruino REPL, Ctrl-] exits. The
// firmware's "QR payload for the provisioning app: {...}" line is followed by that payload drawn as a
// QR code (tools/qr.mjs), as ESP-IDF's example prints one to scan with the phone app.
import { openPort, PortError } from "./port.mjs";
import { qrBlock } from "./qr.mjs";

const HELP = `usage: npm run monitor -- --port PORT [--baud 115200] [--no-reset] [--no-color]
  --port PORT   serial device (/dev/ttyUSB0) or tcp://127.0.0.1:N (npm run sim -- --console-port N)
  --baud N      serial speed (default 115200)
  --no-reset    do not reboot the board on connect (by default it reboots, as idf.py monitor resets
                the chip, so the log starts at boot)
  --no-color    print lines as received
Keys go to the board's REPL; Ctrl-] quits.`;

const COLOR = { E: "\x1b[0;31m", W: "\x1b[0;33m", I: "\x1b[0;32m" };
const LOG_LINE = /^([EWIDV]) \(\d+\) [^:]*:/;
/** A console line without what precedes log text on it: `\r`, the prompt, the erase-line sequence. */
const bare = (line) => line.replace(/^[\r>]*(\x1b\[J)?/, "");
const LOG_START = /^[EWIDV](?: (?:\(\d*(?:\)(?: [^:]*:?)?)?)?)?$|^[EWIDV] \(\d+\) [^:]*:/;

/**
 * Colours complete lines; a partial line (the `>` prompt, typing) is passed through at once, uncoloured.
 * A line carrying the QR payload is followed by the QR code.
 */
export function colorizer(write, color = true) {
  let partial = "", shown = 0, timer; // shown: characters of the current line already written plainly
  const flush = () => { if (partial.length > shown) { write(partial.slice(shown)); shown = partial.length; } };
  return (chunk) => {
    clearTimeout(timer);
    const parts = (partial + chunk).split("\n");
    partial = parts.pop();
    for (const p of parts) {
      const text = bare(p);
      const m = color && !shown && !text.includes("\x1b[") && LOG_LINE.exec(text);
      write(m && COLOR[m[1]] ? COLOR[m[1]] + p.replace(/\r$/, "") + "\x1b[0m\r\n" : p.slice(shown) + "\n");
      shown = 0;
      const qr = qrBlock(text, { color });
      if (qr) write(qr.join("\r\n") + "\r\n");
    }
    // The start of what may be a log line waits briefly for the rest (to be coloured whole).
    if (color && !shown && LOG_START.test(bare(partial))) timer = setTimeout(flush, 100);
    else flush();
  };
}

async function main(argv) {
  const o = { baud: 115200, color: true, reset: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") { console.log(HELP); return 0; }
    if (a === "--no-color") o.color = false;
    else if (a === "--no-reset") o.reset = false;
    else if ((a === "--port" || a === "--baud") && argv[i + 1] !== undefined) o[a.slice(2)] = argv[++i];
    else { console.error(`monitor: unknown argument '${a}'\n${HELP}`); return 2; }
  }
  if (!o.port) { console.error(`monitor: --port is required\n${HELP}`); return 2; }
  let port;
  try {
    port = await openPort(o.port, Number(o.baud));
  } catch (e) {
    if (e instanceof PortError) { console.error(`monitor: ${e.message}`); return 1; }
    throw e;
  }
  process.stderr.write(`--- monitor on ${o.port} at ${o.baud} baud --- Quit: Ctrl+] ---\n`);
  const out = colorizer((s) => process.stdout.write(s), o.color && process.env.NO_COLOR === undefined);
  port.onData(out);
  // Reboot through the REPL (Ctrl-C clears a half-typed line first): a TCP console has no DTR/RTS to pulse.
  if (o.reset) port.write("\x03\x10E.reboot()\n");
  return new Promise((resolve) => {
    const quit = (code, why) => {
      if (why) process.stderr.write(`\n--- ${why} ---\n`);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      port.close();
      resolve(code);
    };
    port.onClose(() => quit(0, "port closed"));
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.on("data", (b) => {
      const s = b.toString("latin1"), i = s.indexOf("\x1d"); // Ctrl-] as in idf.py monitor / miniterm
      if (i >= 0) { if (i) port.write(s.slice(0, i)); quit(0, "exit"); return; }
      port.write(s);
    });
    process.stdin.on("end", () => { /* stdin closed (piped input used up): keep showing the log */ });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2)).then((c) => process.exit(c));
