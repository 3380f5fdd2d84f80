// The provisioning QR code on the host, drawn in the terminal as ESP-IDF's wifi_prov_mgr example prints
// it (esp_qrcode_print_console in ESP-IDF's components/qrcode), so the ESP BLE/SoftAP Provisioning
// phone apps can scan it. The firmware only logs the JSON payload: encoding a QR code on the board would
// cost flash and JsVars for nothing the board needs (src/main.ts).
import QRCode from "qrcode";

/** What the firmware's log line starts with (src/main.ts); the JSON payload follows it. */
export const QR_PREFIX = "QR payload for the provisioning app: ";
/** With CONFIG_PROV_PORTAL_QR: the line carrying the web page's URL (with the PoP in its fragment) to draw. */
export const PAGE_QR_PREFIX = "QR payload for the provisioning page: ";
/** Light modules around the code (ISO/IEC 18004 asks for 4). */
export const QUIET_ZONE = 4;
const WHITE_ON = "\x1b[30;107m", RESET = "\x1b[0m";

/** The payload of a log line carrying QR_PREFIX (JSON) or PAGE_QR_PREFIX (an http:// URL), else undefined. */
export function qrPayload(line) {
  for (const [prefix, start] of [[QR_PREFIX, "{"], [PAGE_QR_PREFIX, "http://"]]) {
    const i = line.indexOf(prefix);
    if (i < 0) continue;
    const text = line.slice(i + prefix.length).replace(/\x1b\[[0-9;]*m/g, "").trim();
    return text.startsWith(start) ? text : undefined;
  }
  return undefined;
}

/**
 * Text lines drawing `text` as a QR code, two module rows per line with half blocks.
 * color: dark modules as blocks on an explicit white background (scannable on any terminal theme);
 * without colour the blocks are the LIGHT modules, as ESP-IDF prints it, for the usual light-on-dark
 * terminal.
 */
export function qrLines(text, { color = true } = {}) {
  const m = QRCode.create(text, { errorCorrectionLevel: "M" }).modules;
  const n = m.size, q = QUIET_ZONE;
  const dark = (r, c) => r >= q && c >= q && r < n + q && c < n + q && m.get(r - q, c - q) === 1;
  const lines = [];
  for (let r = 0; r < n + 2 * q; r += 2) {
    let s = "";
    for (let c = 0; c < n + 2 * q; c++) {
      let top = dark(r, c), bottom = r + 1 < n + 2 * q ? dark(r + 1, c) : false;
      if (!color) { top = !top; bottom = !bottom; }
      s += top ? (bottom ? "█" : "▀") : bottom ? "▄" : " ";
    }
    lines.push(color ? WHITE_ON + s + RESET : s);
  }
  return lines;
}

/** Reads back a drawing made by qrLines into rows of booleans (true = dark module), quiet zone included. */
export function qrModules(lines, { color = true } = {}) {
  const rows = [];
  for (const raw of lines) {
    const s = raw.replace(/\x1b\[[0-9;]*m/g, "");
    const top = [], bottom = [];
    for (const ch of s) {
      let t = ch === "▀" || ch === "█", b = ch === "▄" || ch === "█";
      if (!color) { t = !t; b = !b; }
      top.push(t); bottom.push(b);
    }
    rows.push(top, bottom);
  }
  return rows;
}

/** For a log line carrying the payload: the code's lines plus a caption, else undefined. */
export function qrBlock(line, opts) {
  const json = qrPayload(line);
  if (!json) return undefined;
  const caption = json.startsWith("http://")
    ? "Join the board's access point, then scan this QR code with the phone's camera: it opens the provisioning page with the PoP filled in."
    : `Scan this QR code from the ESP ${/"transport":"softap"/.test(json) ? "SoftAP" : "BLE"} Provisioning app (ESP-IDF wifi_prov_mgr format).`;
  return [...qrLines(json, opts), caption];
}
