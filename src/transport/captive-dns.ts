/**
 * The captive-portal DNS answer: every name resolves to the access point, so whatever a phone or laptop
 * looks up on the provisioning AP (its OS's connectivity probe, a page the user types) reaches the board's
 * web server, which sends it to the provisioning page (docs/captive-portal.md §DNS).
 *
 * Pure bytes in, bytes out (binary strings, as Espruino's dgram 'message' event delivers them); the socket
 * lives in src/platform/espruino/dns.ts. A query is one DNS message (RFC 1035 §4.1):
 * - QTYPE A (1), class IN (1): one answer, the AP's address, TTL 60 s;
 * - any other type (AAAA, HTTPS 65, SVCB 64, ANY, …) or class: NOERROR with no answer ("no data"), never
 *   NXDOMAIN (that would say the name has no address of any type) and never silence (the client would wait
 *   for its timeout before it tries A);
 * - anything that is not a well-formed standard query with exactly one question is dropped: no reply.
 */

/** RFC 1035 §2.3.4: a DNS message over UDP is at most 512 bytes (without EDNS; we never advertise it). */
export var DNS_MAX = 512;
/** Seconds a client may cache the AP's address: 60 s as Arduino's DNSServer (its DNS_DEFAULT_TTL). */
var TTL = 60;

function u16(s: string, i: number): number {
  return (s.charCodeAt(i) << 8) | s.charCodeAt(i + 1);
}

/**
 * The reply to one query, or undefined to drop it. `ip` is the address every A query gets, as 4 bytes
 * ("\xC0\xA8\x04\x01" for 192.168.4.1).
 */
export function dnsAnswer(q: string, ip: string): string | undefined {
  var n = q.length;
  // Header: 12 bytes. Byte 2: QR (must be 0: a query), OPCODE (must be 0: QUERY), TC (a truncated query is
  // not answered); ANCOUNT and NSCOUNT must be 0, QDCOUNT exactly 1. ARCOUNT may be 1 (an EDNS OPT record):
  // it is ignored and the reply carries none, as from a server that does not implement EDNS (RFC 6891).
  if (n < 17 || n > DNS_MAX) return undefined;
  var flags = q.charCodeAt(2);
  if (flags & 0xfa || u16(q, 4) !== 1 || u16(q, 6) || u16(q, 8) || u16(q, 10) > 1) return undefined;
  // QNAME: labels of 1..63 bytes, then the root (0); no compression pointers in a question; ≤ 255 bytes.
  var i = 12;
  for (;;) {
    if (i >= n) return undefined;
    var len = q.charCodeAt(i);
    if (len === 0) break;
    if (len > 63 || i + len + 1 > n || i - 12 + len + 1 > 254) return undefined;
    i += len + 1;
  }
  i++;
  if (i + 4 > n) return undefined;
  var type = u16(q, i), cls = u16(q, i + 2), a = type === 1 && cls === 1;
  // Reply header: same ID; QR, AA, RD as asked, RA; RCODE 0; one question, one answer for A, none otherwise.
  return q.substr(0, 2) + String.fromCharCode(0x84 | (flags & 1), 0x80, 0, 1, 0, a ? 1 : 0, 0, 0, 0, 0) +
    q.substr(12, i + 4 - 12) +
    // The answer: a pointer to the question's name (offset 12), A, IN, TTL, 4 bytes of address.
    (a ? String.fromCharCode(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, TTL, 0, 4) + ip : "");
}

/** A UDP socket on the board: messages in (binary strings) with a way to answer their sender. */
export interface UdpPort {
  /** Starts receiving on `port` (nothing if it already does). */
  listen(port: number, onMessage: (msg: string, reply: (data: string) => void) => void): void;
  close(): void;
}

/** The responder for UDP port 53: answers what dnsAnswer answers, drops the rest. */
export function dnsResponder(ip: string): (msg: string, reply: (data: string) => void) => void {
  return function (msg, reply) {
    var r = dnsAnswer(msg, ip);
    if (r) reply(r);
  };
}
