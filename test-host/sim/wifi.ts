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

/** The board's own access point (Wifi.startAP). */
export interface SimSoftAp { ssid: string; password: string; authMode: string }

export class SimWifi {
  handlers: Record<string, ((d: unknown) => void)[]> = {};
  ap: SimSoftAp | undefined;
  /** Every AP the firmware started, for tests. */
  apStarts: SimSoftAp[] = [];
  status: { station: string; ap?: SimAp } = { station: "off" };
  hostname = "espressif";
  attempt = 0;
  connects: { ssid: string; password: string }[] = [];
  /** chip: on the ESP32-C3 Espruino runs the AP or the station, never both (ChangeLog 2v25). */
  constructor(public sched: Scheduler, public world: RadioWorld, public staMac: string, public chip = "esp32") {}

  /** A phone joins the board's AP: the SSID must be up and the passphrase right (WPA2) or absent (open). */
  joinAp(ssid: string, password = ""): boolean {
    return !!this.ap && this.ap.ssid === ssid && (this.ap.authMode === "open" || this.ap.password === password);
  }

  /**
   * The world changes while the board runs: an AP gets a new password, disappears, or (re)appears. A station
   * on a changed or vanished AP loses it as a station does when its AP restarts or goes off air
   * (BEACON_TIMEOUT, 200); its next attempts meet the new world.
   */
  changeAp(ssid: string, change: { password: string } | "remove" | { add: SimAp }) {
    // In place: the device keeps one world across reboots (its own copy, test-host/sim/device.ts).
    const aps = this.world.aps, i = aps.findIndex((a) => a.ssid === ssid);
    if (typeof change === "object" && "add" in change) {
      if (i >= 0) aps.splice(i, 1);
      aps.push(change.add);
    } else {
      if (i < 0) throw new Error(`no access point '${ssid}' in the radio world`);
      if (change === "remove") aps.splice(i, 1);
      else aps[i] = { ...aps[i]!, password: change.password };
    }
    if (this.status.ap?.ssid === ssid) {
      const bssid = this.status.ap.bssid || "";
      this.attempt++;
      this.status = { station: "BEACON_TIMEOUT" };
      this.emit("disconnected", { ssid, mac: bssid, reason: "200", msg: "BEACON_TIMEOUT" });
    }
  }

  private emit(ev: string, d: unknown) {
    for (const fn of this.handlers[ev] || []) this.sched.at(this.sched.now, true, () => fn(d));
  }

  api() {
    const self = this, s = this.sched;
    return {
      connect(ssid: string, opts: { password?: string } = {}, cb?: (err?: string | null) => void) {
        const id = String(ssid).slice(0, 31), pw = String(opts.password || "").slice(0, 63), my = ++self.attempt;
        // jswrap_wifi_connect: AP → APSTA, except on the C3 where the mode becomes STA (the AP goes).
        if (self.chip === "esp32c3" && self.ap) self.ap = undefined;
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
      // jswrap_esp32_network.c jswrap_wifi_startAP: SSID cut to 32 bytes, password ≥ 8 characters,
      // authMode open|wpa2|wpa|wpa_wpa2 (default: wpa2 with a password, else open), mode |= AP; the callback
      // runs on the AP_START event, which an AP that is already up does not raise again.
      startAP(ssid: unknown, opts: { password?: unknown; authMode?: unknown } = {}, cb?: (err: unknown) => void) {
        if (typeof ssid !== "string") throw new Error("No SSID");
        if (opts.password !== undefined && (typeof opts.password !== "string" || opts.password.length < 8)) throw new Error("Password must be string of at least 8 characters");
        const password = opts.password === undefined ? "" : String(opts.password).slice(0, 63);
        const authMode = opts.authMode === undefined ? (password ? "wpa2" : "open") : String(opts.authMode);
        if (!["open", "wpa2", "wpa", "wpa_wpa2"].includes(authMode)) throw new Error("Unknown authMode value");
        if (authMode !== "open" && !password) throw new Error("Password not set but authMode not open");
        if (authMode === "open" && password) throw new Error("Auth mode set to open but password supplied");
        const wasUp = !!self.ap;
        if (self.chip === "esp32c3" && self.status.station !== "off") { self.attempt++; self.status = { station: "off" }; }
        self.ap = { ssid: ssid.slice(0, 32), password, authMode };
        self.apStarts.push(self.ap);
        if (cb && !wasUp) s.at(s.now + 100, true, () => cb(null));
      },
      stopAP(cb?: () => void) {
        self.ap = undefined;
        if (cb) s.at(s.now, true, cb);
      },
      getAPIP() { return { ip: "192.168.4.1", netmask: "255.255.255.0", gw: "192.168.4.1", mac: self.staMac.replace(/..$/, (x) => ((parseInt(x, 16) + 1) & 255).toString(16).padStart(2, "0")) }; },
    };
  }
}
