/**
 * UdpPort on Espruino's require("dgram") (libs/network/jswrap_net.c, libs/network/socketserver.c):
 * createSocket("udp4"), bind(port) listens on every interface, each datagram fires 'message' with
 * (msg, rinfo): msg a binary string, rinfo {address, port, size}; send(msg, port, address) answers the sender.
 * A datagram longer than 528 bytes arrives cut to 528: the ESP32 port receives into its 536-byte chunk
 * behind an 8-byte address header (libs/network/esp32/network_esp32.c net_esp32_recv, chunkSize 536).
 * No DHCP setting is needed: ESP-IDF's DHCP server offers the AP's own address as DNS server
 * (components/lwip/apps/dhcpserver/dhcpserver.c add_offer_options, ESP-IDF v3.3.6 as Espruino builds it).
 */
import { UdpPort } from "../../transport/captive-dns";

export function espruinoUdp(): UdpPort {
  var sock: EspruinoDgramSocket | undefined;
  return {
    listen: function (port, onMessage) {
      if (sock) return;
      var s = require("dgram").createSocket("udp4");
      s.on("message", function (msg, rinfo) {
        onMessage(msg, function (data) {
          try {
            s.send(data, rinfo.port, rinfo.address);
          } catch (e) {
            // the network went away (jswrap_dgram_socket_send: "Not connected to the internet")
          }
        });
      });
      s.bind(port);
      sock = s;
    },
    close: function () {
      if (sock) sock.close();
      sock = undefined;
    },
  };
}
