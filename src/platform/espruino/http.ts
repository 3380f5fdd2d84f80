/**
 * HttpPort and the SoftAP on Espruino's ESP32 port.
 * - require("http") server (libs/network/http/jswrap_http.c, libs/network/socketserver.c): the request
 *   callback runs once the headers are parsed; header names keep the client's spelling; the body comes as
 *   binary strings through 'data' (≤ 536 bytes each: network_esp32.c chunkSize) and 'end' fires once
 *   Content-Length bytes arrived; 'close' fires only when the server closes the connection (after end(), once
 *   the request arrived whole) or a send fails (a client gone for good): a client's FIN alone fires nothing, and
 *   a request left incomplete keeps its socket (socketServerConnectionsIdle; docs/http.md). Responses get
 *   `Connection: close` automatically but no Content-Length, and `res.end(Uint8Array)` would send the text
 *   "1,2,3" (jsvAsString), so bodies go out as byte strings with their length set here.
 * - Wifi.startAP (libs/network/esp32/jswrap_esp32_network.c jswrap_wifi_startAP) ORs AP into the mode, so
 *   a station connect later keeps the AP up (APSTA); the password must be ≥ 8 characters; on the ESP32-C3
 *   Espruino drops the station when the AP starts and the AP when the station connects (ChangeLog 2v25).
 */
import { HttpPort, HttpRequest } from "../../transport/http-protocomm";
import { PageSource } from "../../transport/web-portal";

export function espruinoHttp(): HttpPort {
  var server: { close(): void } | undefined;
  return {
    listen: function (port, onRequest) {
      var srv = require("http").createServer(function (req, res) {
        var r: HttpRequest = {
          method: req.method,
          url: req.url,
          header: function (name) {
            var want = name.toLowerCase();
            for (var k in req.headers) if (k.toLowerCase() === want) return req.headers[k];
            return undefined;
          },
          on: function (ev: string, fn: any) {
            req.on(ev as "data", fn);
          },
        };
        onRequest(r, {
          send: function (status, headers, body) {
            headers["Content-Length"] = "" + body.length;
            try {
              res.writeHead(status, headers);
              res.end(body.length ? E.toString(body) : "");
            } catch (e) {
              // "This socket is closed": the client left while the reply was being made.
            }
          },
          // socketserver.c socketSendData queues 'drain' on the response once everything written so far has
          // been sent (never after end()); a client gone for good makes a send fail: 'close', and no more drains.
          stream: function (status, headers, next) {
            function more() {
              var piece = next();
              try {
                if (piece) res.write(piece);
                else res.end();
              } catch (e) {
                // the client left
              }
            }
            try {
              res.writeHead(status, headers);
            } catch (e) {
              return;
            }
            res.on("drain", more);
            more();
          },
        });
      });
      srv.listen(port);
      server = srv;
    },
    close: function () {
      if (server) server.close();
      server = undefined;
    },
  };
}

export interface SoftAp {
  start(ssid: string, password: string, cb: (err?: string) => void): void;
  stop(): void;
}

export function espruinoSoftAp(): SoftAp {
  var W = require("Wifi");
  return {
    start: function (ssid, password, cb) {
      var opt: { password?: string; authMode: string } = { authMode: password ? "wpa2" : "open" };
      if (password) opt.password = password;
      try {
        W.startAP(ssid, opt, function (err) {
          cb(err ? "" + err : undefined);
        });
      } catch (e) {
        cb("" + e);
      }
    },
    // The built-in itself (a static method: jswrap_esp32_network.c jswrap_wifi_stopAP), no wrapper closure.
    stop: W.stopAP,
  };
}

/**
 * A Storage file as the page: Storage.read returns a string mapped onto the flash, no RAM copy of its bytes
 * (src/jswrap_storage.c jswrap_storage_read → jsfReadFile; ESP32 flash is memory-mapped: targets/esp32/main.c
 * esp_partition_mmap), so neither its length nor a piece costs more than a JsVar or two.
 */
export function espruinoPage(name: string): PageSource {
  var S = require("Storage");
  return {
    size: function () {
      var f = S.read(name);
      return f ? f.length : 0;
    },
    read: function (offset, length) {
      return S.read(name, offset, length) || "";
    },
  };
}
