/**
 * require("dgram") of Espruino's ESP32 port, and the UDP clients that reach it over the SoftAP.
 * Modelled on libs/network/jswrap_net.c and libs/network/socketserver.c (2v29):
 * - dgram.createSocket(type[, cb]) makes an unbound socket (jswrap_dgram_createSocket → jswrap_net_connect);
 *   bind(port[, cb]) listens on every interface and queues cb(socket) (jswrap_dgramSocket_bind), returns the
 *   socket; binding a port that is in use throws "Unable to create socket" (serverListen);
 * - each datagram received is queued as 'message' (msg, rinfo): msg a binary string, rinfo
 *   {address: "a.b.c.d", port, size} (socketReceivedUDP); the ESP32 port reads at most 528 bytes of a
 *   datagram (its 536-byte chunk less the 8-byte JsNetUDPPacketHeader, network_esp32.c net_esp32_recv), the
 *   rest is lost and size says 528;
 * - send(msg, port, address) or send(msg, offset, length, port, address) (jswrap_dgram_socket_send): the
 *   datagram leaves once the JS item that sent it has finished (socket idle loop); on a closed socket it
 *   throws "This socket is closed" (clientRequestWrite);
 * - close() (jswrap_dgram_close → clientRequestEnd): the socket stops receiving and its port is free again.
 */
import { Scheduler } from "./scheduler";
import { LINK_MS } from "./http";

/** Bytes of a datagram the ESP32 port passes to JS (536-byte chunk − 8-byte header). */
export const UDP_MAX = 528;

type Fn = (...a: any[]) => void;
interface Sock { port: number; closed: boolean; on: Record<string, Fn[]> }
/** Where a client listens for the board's replies. */
export type Reply = (b: Buffer) => void;

export class SimDgram {
  private bound = new Map<number, Sock>();
  private clients = new Map<string, Reply>();
  /** Whether a client can reach the board (its AP is up). */
  reachable: () => boolean = () => true;
  constructor(private sched: Scheduler) {}

  /** UDP sockets the firmware holds bound (they count against lwIP's socket limit). */
  get open() { return this.bound.size; }

  /** require("dgram") as the firmware sees it. */
  api() {
    const self = this, sched = this.sched;
    return {
      createSocket(_type: unknown, cb?: Fn) {
        const s: Sock = { port: 0, closed: false, on: {} };
        const api = {
          on(ev: string, fn: Fn) { (s.on[ev] ||= []).push(fn); },
          bind(port: number, bindCb?: Fn) {
            if (self.bound.has(port)) throw new Error("Unable to create socket");
            s.port = port | 0;
            self.bound.set(s.port, s);
            for (const f of [bindCb, cb]) if (f) sched.at(sched.now, true, () => f(api));
            return api;
          },
          send(msg: unknown, a: unknown, b: unknown, ...rest: unknown[]) {
            if (s.closed) throw new Error("This socket is closed");
            let data = String(msg), port = a, address = b;
            if (typeof rest[0] === "number") { data = data.substr(Number(a), Number(b)); port = rest[0]; address = rest[1]; }
            const to = self.clients.get(`${String(address)}:${Number(port)}`), bytes = Buffer.from(data, "latin1");
            sched.effect(() => { if (to) sched.at(sched.now + LINK_MS, false, () => to(bytes)); });
          },
          close() {
            if (s.closed) return;
            s.closed = true;
            if (self.bound.get(s.port) === s) self.bound.delete(s.port);
            for (const f of s.on.close || []) sched.at(sched.now, true, () => f());
          },
        };
        return api;
      },
    };
  }

  /**
   * A client at address:port sends a datagram to the board's UDP port; replies to that address and port reach
   * `reply`. Returns false when nothing on the board can get it (AP down, port not bound).
   */
  send(toPort: number, payload: Uint8Array, from: { address: string; port: number }, reply: Reply): boolean {
    if (!this.reachable()) return false;
    this.clients.set(`${from.address}:${from.port}`, reply);
    const sched = this.sched, data = Buffer.from(payload).subarray(0, UDP_MAX);
    sched.at(sched.now + LINK_MS, false, () => {
      const s = this.bound.get(toPort);
      if (!s || s.closed) return;
      const msg = data.toString("latin1"), rinfo = { address: from.address, port: from.port, size: data.length };
      for (const f of s.on.message || []) sched.at(sched.now, true, () => f(msg, rinfo));
    });
    return true;
  }
}

/** The address a client on the AP gets from the board's DHCP server (its first lease). */
export const CLIENT_ADDRESS = "192.168.4.2";

/**
 * Bridges a host UDP socket (npm run sim -- --dns-port N) to the board's port `toPort`: each datagram is sent
 * by a client on the AP at CLIENT_ADDRESS and the sender's own port, and the board's replies go back to it.
 */
export function bridgeUdp(host: import("node:dgram").Socket, board: () => SimDgram | undefined, toPort: number) {
  host.on("message", (msg, rinfo) => {
    board()?.send(toPort, msg, { address: CLIENT_ADDRESS, port: rinfo.port }, (b) => host.send(b, rinfo.port, rinfo.address));
  });
}
