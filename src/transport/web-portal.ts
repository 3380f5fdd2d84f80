/**
 * GET requests while provisioning: the provisioning page, and an answer to every OS's captive-portal probe
 * that makes it open that page by itself (docs/captive-portal.md has each OS's probe and what it expects).
 *
 * - `GET /` (or /index.html) addressed to the board's IP (or to the simulator's 127.0.0.1 / localhost): the
 *   page, Storage file PAGE_FILE (gzip bytes, made by tools/build-page.mjs), sent with Content-Encoding: gzip
 *   in PAGE_CHUNK pieces, each written once the previous one has left (Espruino's 'drain': every res.write is
 *   copied into JsVars until sent, libs/network/socketserver.c serverResponseWrite). Without the file, a
 *   one-line plain-text hint: the apps and esp_prov still provision through POST.
 * - Any other GET, the probes among them (Android /generate_204 and /gen_204, Apple /hotspot-detect.html,
 *   Windows /connecttest.txt and /ncsi.txt, Firefox /canonical.html and /success.txt), and `/` asked by a host
 *   name (the probe hosts resolve to the board through the captive DNS): 302 to PORTAL_URL. Every one of those
 *   clients takes a 3xx (or anything but its expected body) as "captive portal" and opens its sign-in browser
 *   on the page; none of them gets the answer meaning "internet OK" (204, "Success", "Microsoft Connect
 *   Test"), which would close that browser. The page is served under one origin (the IP), never under a
 *   probe's host name.
 */
import { strToBytes } from "../core/bytes";
import { Logger } from "../core/log";
import { HttpRequest, HttpResponse } from "./http-protocomm";

/** Where the access point puts the board (ESP-IDF's default SoftAP address; every client assumes it). */
export var PORTAL_URL = "http://192.168.4.1/";
/** The page's Storage file: tools/build-page.mjs writes dist/portal.html.gz, flash.sh uploads it under this name. */
export var PAGE_FILE = "portal.html.gz";
/**
 * Bytes per res.write: Espruino copies each into JsVar string blocks of 10-12 characters until it has gone
 * out, and one write of up to 536 - head bytes goes out in one pass of the socket loop (network_esp32.c
 * chunkSize 536), so 256 bytes keep a download at ≈ 25 JsVars of buffer.
 */
export var PAGE_CHUNK = 256;

/** The page as the platform stores it: its size (0 = no page) and byte ranges of it as binary strings. */
export interface PageSource {
  size(): number;
  read(offset: number, length: number): string;
}

var NO_CACHE = "no-store";

/** Whether a Host header names this board by address (or the simulator's loopback), not by a name. */
function atBoard(host: string | undefined): boolean {
  var h = (host || "").split(":")[0]!;
  return h === "" || h === "localhost" || /^[0-9.]+$/.test(h);
}

export function webPortal(page: PageSource, log: Logger): (req: HttpRequest, res: HttpResponse) => void {
  return function (req, res) {
    var path = req.url.split("?")[0];
    if ((path === "/" || path === "/index.html") && atBoard(req.header("Host"))) {
      var size = page.size(), off = 0;
      if (!size) {
        log.w("GET /: no " + PAGE_FILE + " in Storage (npm run flash uploads it)");
        return res.send(200, { "Content-Type": "text/plain", "Cache-Control": NO_CACHE }, strToBytes(
          "No provisioning page on this board (Storage " + PAGE_FILE + "): use the ESP SoftAP Provisioning app or esp_prov.\n"));
      }
      log.i("Serving the provisioning page (" + size + " bytes)");
      return res.stream(200, {
        "Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip", "Content-Length": "" + size,
        "Cache-Control": NO_CACHE,
      }, function () {
        var n = Math.min(PAGE_CHUNK, size - off);
        off += n;
        return n > 0 ? page.read(off - n, n) : "";
      });
    }
    log.i("GET " + path + ": redirect to the provisioning page");
    res.send(302, { Location: PORTAL_URL, "Cache-Control": NO_CACHE }, new Uint8Array(0));
  };
}
