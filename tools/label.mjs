#!/usr/bin/env node
// npm run label -- --port PORT [--baud 115200] [--config sdkconfig] [--out FILE.svg]
// Reads the device name and proof of possession from the board (global prov, over its REPL, as flash.sh's
// tools/board.mjs does) and writes a printable label: the provisioning QR code (the payload the firmware logs,
// ESP-IDF wifi_prov_mgr format) with the name and PoP in clear. Transport, security and SoftAP password come
// from the configuration the board was flashed with (--config).
import fs from "node:fs";
import path from "node:path";
import QRCode from "qrcode";
import { repl } from "./board.mjs";
import { BoardError } from "./build-config.mjs";
import { PortError } from "./port.mjs";
import { readConfig, ConfigError, root } from "./config.mjs";
import { QUIET_ZONE } from "./qr.mjs";

const HELP = `usage: npm run label -- --port PORT [--baud 115200] [--config FILE] [--out FILE.svg]
  --port PORT    serial device (/dev/ttyUSB0) or tcp://127.0.0.1:N (npm run sim -- --console-port N)
  --baud N       serial speed (default 115200)
  --config FILE  the configuration the board was flashed with (default sdkconfig): transport, security, password
  --out FILE     the label to write (default label-<device name>.svg)`;

/** The QR payload as the firmware logs it (src/main.ts). */
export function labelPayload(name, pop, c) {
  const softap = c.PROV_TRANSPORT !== "ble", sec = Number(c.PROV_SECURITY_VERSION);
  // Security 2: the username before the pop, as ESP-IDF's example prints it.
  const q = { ver: "v1", name, username: c.PROV_SEC2_USERNAME, pop, transport: softap ? "softap" : "ble", security: sec };
  if (sec !== 2) delete q.username;
  if (sec === 0) delete q.pop;
  if (softap && c.PROV_SOFTAP_PASSWORD) q.password = c.PROV_SOFTAP_PASSWORD;
  return JSON.stringify(q);
}

const esc = (s) => String(s).replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A label 60 mm wide: the QR code (4 modules of quiet zone) above the name and the PoP. */
export function labelSvg(payload, name, pop) {
  const m = QRCode.create(payload, { errorCorrectionLevel: "M" }).modules, n = m.size + 2 * QUIET_ZONE;
  let cells = "";
  for (let r = 0; r < m.size; r++) for (let c = 0; c < m.size; c++) if (m.get(r, c)) cells += `M${c + QUIET_ZONE} ${r + QUIET_ZONE}h1v1h-1z`;
  const text = n * 0.09;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="60mm" height="${(60 * (n + 4 * text)) / n}mm" viewBox="0 0 ${n} ${n + 4 * text}">
<rect width="100%" height="100%" fill="#fff"/>
<path d="${cells}" fill="#000" shape-rendering="crispEdges"/>
<text x="${n / 2}" y="${n + 1.4 * text}" font-family="monospace" font-size="${text}" text-anchor="middle">${esc(name)}</text>
<text x="${n / 2}" y="${n + 3 * text}" font-family="monospace" font-size="${text}" text-anchor="middle">PoP: ${esc(pop)}</text>
</svg>
`;
}

async function main(argv) {
  const o = { baud: "115200", config: "sdkconfig" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") { console.log(HELP); return 0; }
    if (/^--(port|baud|config|out)$/.test(a) && argv[i + 1] !== undefined) o[a.slice(2)] = argv[++i];
    else { console.error(`label: unknown argument '${a}'\n${HELP}`); return 2; }
  }
  if (!o.port) { console.error(`label: --port is required\n${HELP}`); return 2; }
  try {
    const c = readConfig(path.resolve(root, o.config));
    const r = await repl(o.port, Number(o.baud));
    let got;
    try {
      got = await r.eval(`typeof prov=="object"?{name:prov.name,pop:prov.pop}:null`);
    } finally {
      r.close();
    }
    if (!got) throw new BoardError(`${o.port}: the board has no prov object: is this firmware flashed (npm run flash) and booted?`);
    if (Number(c.PROV_SECURITY_VERSION) === 2 && c.PROV_POP_MODE === "fixed") {
      throw new BoardError(`${got.name} runs Security 2 with a fixed PoP, which the firmware keeps only as a verifier: a label would carry no password (PROV_POP_MODE=random gives each board its own)`);
    }
    if (Number(c.PROV_SECURITY_VERSION) !== 0 && !got.pop) {
      throw new BoardError(`${got.name} has no proof of possession yet: let it boot into provisioning once (it draws its PoP then), or check --config`);
    }
    const out = o.out || `label-${got.name}.svg`;
    fs.writeFileSync(out, labelSvg(labelPayload(got.name, got.pop, c), got.name, got.pop));
    console.log(`label: ${got.name}, PoP ${got.pop} → ${out}`);
    return 0;
  } catch (e) {
    if (e instanceof BoardError || e instanceof PortError || e instanceof ConfigError) { console.error(`label: ${e.message}`); return 1; }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2)).then((c) => process.exit(c));
