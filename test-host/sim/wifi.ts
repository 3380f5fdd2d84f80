/**
 * require("Wifi") of the ESP32 port (libs/network/esp32/jswrap_esp32_network.c), against a "radio world"
 * of access points from JSON. Quirks kept: SSID cut to 31 chars and password to 63 (jsvGetString into
 * 32/64-byte buffers); events are queued to JS; `disconnected.reason` and `channel` are STRINGS;
 * scan calls back with ONE argument; 2v29 calls the connect callback only on success.
 */
import { Scheduler } from "./scheduler";

export interface SimAp {
  ssid: string; password?: string; auth?: string; rssi?: number; channel?: number; bssid?: string; ip?: string;
  /** false: the AP is out of range (NO_AP_FOUND). */
  reachable?: boolean;
  /** Force this disconnect reason (e.g. 15 4WAY_HANDSHAKE_TIMEOUT, 200 BEACON_TIMEOUT) on every attempt. */
  failReason?: number;
}
export interface RadioWorld { aps: SimAp[] }

/** The network the demo, `npm run sim` and the tests use unless given another radio world. */
export const DEFAULT_WORLD: RadioWorld = {
  aps: [{ ssid: "myssid", password: "mypassword", bssid: "11:22:33:44:55:66", channel: 6, ip: "192.168.43.220", auth: "wpa2" }],
};

const REASON_NAMES: Record<number, string> = {
  2: "AUTH_EXPIRE", 15: "4WAY_HANDSHAKE_TIMEOUT", 200: "BEACON_TIMEOUT", 201: "NO_AP_FOUND", 202: "AUTH_FAIL", 203: "ASSOC_FAIL", 204: "HANDSHAKE_TIMEOUT",
};

export class SimWifi {
  handlers: Record<string, ((d: unknown) => void)[]> = {};
  status: { station: string; ap?: SimAp } = { station: "off" };
  hostname = "espressif";
  attempt = 0;
  connects: { ssid: string; password: string }[] = [];
  constructor(public sched: Scheduler, public world: RadioWorld, public staMac: string) {}

  private emit(ev: string, d: unknown) {
    for (const fn of this.handlers[ev] || []) this.sched.at(this.sched.now, true, () => fn(d));
  }

  api() {
    const self = this, s = this.sched;
    return {
      connect(ssid: string, opts: { password?: string } = {}, cb?: (err?: string | null) => void) {
        const id = String(ssid).slice(0, 31), pw = String(opts.password || "").slice(0, 63), my = ++self.attempt;
        self.connects.push({ ssid: id, password: pw });
        self.status = { station: "connecting" };
        const ap = self.world.aps.find((a) => a.ssid === id && a.reachable !== false);
        const fail = (reason: number, after: number) => s.at(s.now + after, false, () => {
          if (my !== self.attempt) return;
          self.status = { station: REASON_NAMES[reason] || "Unknown reason" };
          self.emit("disconnected", { ssid: id, mac: ap?.bssid || "", reason: String(reason), msg: REASON_NAMES[reason] || "Unknown reason" });
        });
        if (!ap) return void fail(201, 3000); // a full scan of all channels finds nothing
        if (ap.failReason) return void fail(ap.failReason, 2000);
        if ((ap.password || "") !== pw) return void fail(202, 1500);
        s.at(s.now + 800, false, () => {
          if (my !== self.attempt) return;
          self.emit("associated", { ssid: id, mac: ap.bssid || "11:22:33:44:55:66", channel: String(ap.channel || 6) });
        });
        s.at(s.now + 1800, false, () => {
          if (my !== self.attempt) return;
          self.status = { station: "connected", ap };
          const ip = ap.ip || "192.168.4.2";
          self.emit("connected", { ip, netmask: "255.255.255.0", gw: ip.replace(/\.\d+$/, ".1") });
          if (cb) s.at(s.now, true, () => cb(null));
        });
      },
      disconnect(cb?: () => void) {
        self.attempt++;
        self.status = { station: "off" };
        if (cb) s.at(s.now, true, cb);
      },
      getStatus() {
        const ap = self.status.ap;
        return ap ? { station: "connected", ssid: ap.ssid, bssid: ap.bssid, channel: ap.channel || 6, rssi: ap.rssi ?? -50, authMode: ap.auth || "wpa2", mode: "STA" }
          : { station: self.status.station, mode: self.status.station === "off" ? "NULL" : "STA" };
      },
      getIP() {
        const ap = self.status.ap;
        return { ip: ap ? ap.ip || "192.168.4.2" : "0.0.0.0", netmask: ap ? "255.255.255.0" : "0.0.0.0", gw: "0.0.0.0", mac: self.staMac };
      },
      scan(cb: (aps: unknown[]) => void) {
        s.at(s.now + 1500, false, () => {
          const list = self.world.aps.filter((a) => a.reachable !== false).map((a) => ({
            rssi: a.rssi ?? -50, authMode: a.auth || "wpa2", ssid: a.ssid, mac: a.bssid || "11:22:33:44:55:66", channel: String(a.channel || 6),
          }));
          s.at(s.now, true, () => cb(list)); // ONE argument on ESP32
        });
      },
      setHostname(h: string) { self.hostname = h; },
      getHostname() { return self.hostname; },
      on(ev: string, fn: (d: unknown) => void) { (self.handlers[ev] ||= []).push(fn); },
      save() { throw new Error("Wifi.save() is not used by this firmware (plaintext .wificfg)"); },
      startAP() { /* not used */ },
    };
  }
}
