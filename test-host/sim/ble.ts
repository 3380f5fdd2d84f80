/**
 * The NRF object of Espruino's ESP32 port and a virtual central that talks to it.
 * Modelled on targets/esp32/BLE/esp32_gatts_func.c, esp32_gap_func.c and libs/bluetooth/*.c:
 * - characteristics register as 16-bit UUIDs (bytes 12-13 of a 128-bit one); updateServices finds them by
 *   16-bit UUID only; description → 0x2901 (15 chars max); maxLen ignored; uart defaults to true (NUS);
 * - advertising data is one 31-byte packet; there is no scan response (setScanResponse: "FIXME");
 * - a write stores the bytes as the value and queues onWrite({data}) cut to 61 bytes
 *   (jsdevices.h IOEVENT_MAX_LEN 64 − 3); E.internal["BLE_CHAR_V"+idx] holds the full value;
 * - gatt mode "espruino-2v29": the Write Response is sent at once, before any JS runs; a read is answered
 *   from the stored value (or an onRead function run in the BT task) when it arrives;
 *   gatt mode "deferred-write": ESP-IDF semantics — the write is acknowledged when JS has stored the reply
 *   (NRF.updateServices on that characteristic), which a patched firmware would provide;
 * - no long read/write: a value longer than one ATT PDU (MTU−3 write, MTU−1 read) fails;
 * - NRF.disconnect() closes the GATT *client* only on stock ESP32 (no effect on a connected phone); in
 *   deferred-write mode the patched firmware drops the link.
 */
import { Scheduler } from "./scheduler";

export type GattMode = "espruino-2v29" | "deferred-write";

export interface SimChar {
  idx: number; service: string; uuid16: number; value: Uint8Array; readable: boolean; writable: boolean;
  description?: string; onWrite?: (evt: unknown) => void; onRead?: () => unknown;
}

export const ATT_TIMEOUT_MS = 30000;
export const ONWRITE_MAX = 61;
export const ADV_MAX = 31;

/** 16-bit UUID as the ESP32 port registers a characteristic key. */
export function uuid16Of(key: string | number): number {
  if (typeof key === "number") return key & 0xffff;
  const k = key.replace(/^0x/i, "").replace(/-/g, "");
  if (/^[0-9a-f]{1,4}$/i.test(k)) return parseInt(k, 16);
  if (/^[0-9a-f]{32}$/i.test(k)) return parseInt(k.slice(4, 8), 16); // data[12..13] = chars 4..7
  throw new Error("Invalid UUID " + key);
}

export class SimBle {
  chars: SimChar[] = [];
  advert: Uint8Array | undefined;
  advertising = false;
  connected = false;
  mtu = 23;
  nus = true;
  handlers: Record<string, ((a?: unknown) => void)[]> = {};
  internal: Record<string, unknown> = {};
  /** A write waiting for its reply in deferred-write mode. */
  private pending: { uuid16: number; done?: "ok" | "error"; arrived?: number; handled?: boolean; dispatchedItem?: number } | undefined;
  log: string[] = [];

  constructor(public sched: Scheduler, public mode: GattMode, public enabled: boolean, public connIntervalMs: number,
    private realm: { str(b: Uint8Array): string; ab(b: Uint8Array): ArrayBuffer; bytes(v: unknown): Uint8Array }) {}

  private emit(ev: string, arg?: unknown) {
    for (const fn of this.handlers[ev] || []) this.sched.at(this.sched.now, true, () => fn(arg));
  }
  private need() {
    if (!this.enabled) throw new Error("BLE is disabled (ESP32.enableBLE(false))");
  }

  /** The NRF global handed to the firmware. */
  api() {
    const self = this;
    return {
      setServices(services: Record<string, Record<string, any>>, opts: { uart?: boolean } = {}) {
        self.need();
        if (self.connected) { self.log.push("Skip jsble_set_services as connected"); return; }
        self.chars = [];
        for (const [svc, cs] of Object.entries(services || {})) {
          for (const [ck, c] of Object.entries(cs)) {
            const idx = self.chars.length;
            const value = c.value === undefined ? new Uint8Array(0) : self.realm.bytes(c.value);
            self.chars.push({
              idx, service: svc, uuid16: uuid16Of(ck), value, readable: !!c.readable, writable: !!c.writable,
              description: c.description === undefined ? undefined : String(c.description).slice(0, 15),
              onWrite: c.onWrite, onRead: c.onRead,
            });
            self.internal["BLE_CHAR_V" + idx.toString(16)] = self.realm.str(value);
          }
        }
        self.nus = opts.uart !== false;
        self.advertising = true;
      },
      updateServices(upd: Record<string, Record<string, any>>) {
        self.need();
        for (const cs of Object.values(upd || {})) {
          for (const [ck, c] of Object.entries(cs)) {
            if (!/^(0x)?[0-9a-f]{1,4}$/i.test(ck) && typeof ck === "string") throw new Error("Unable to find service with UUID " + ck);
            const ch = self.chars.find((x) => x.uuid16 === uuid16Of(ck));
            if (!ch) throw new Error("Unable to find service with UUID " + ck);
            if (c.value === undefined) continue;
            const v = self.realm.bytes(c.value);
            if (!v.length) continue; // gatts_update_service ignores zero-length values
            const startedAt = self.sched.jsStartedAt, item = self.sched.item;
            self.sched.effect(() => {
              ch.value = v;
              self.internal["BLE_CHAR_V" + ch.idx.toString(16)] = self.realm.str(v);
              // Only a reply computed by JS after the write's onWrite event was dispatched acknowledges it:
              // JS queued earlier (e.g. the previous client's disconnect handler clearing the values) is not
              // the reply, even when it runs after the write arrived.
              const p = self.pending;
              if (p && p.uuid16 === ch.uuid16 && p.arrived !== undefined &&
                (p.handled ? p.dispatchedItem !== undefined && item >= p.dispatchedItem : startedAt >= p.arrived)) p.done = "ok";
            });
          }
        }
      },
      setAdvertising(data: unknown) {
        self.need();
        if (Array.isArray(data) || ArrayBuffer.isView(data)) {
          const b = self.realm.bytes(data);
          if (b.length > ADV_MAX) throw new Error("Too much data for advertising packet (" + b.length + " > 31)");
          self.advert = b;
        }
        self.advertising = true;
      },
      setScanResponse() {
        throw new Error("FIXME"); // esp32_gap_func.c jsble_advertising_update_scanresponse
      },
      disconnect() {
        if (self.mode === "deferred-write" && self.connected) {
          self.sched.effect(() => self.dropLink("device"));
        }
      },
      sleep() { self.advertising = false; },
      wake() { self.advertising = true; },
      on(ev: string, fn: (a?: unknown) => void) { (self.handlers[ev] ||= []).push(fn); },
      // Object.prototype.emit (src/jswrap_object.c jswrap_object_emit): the listeners are queued with
      // jsiQueueEvents, i.e. behind the NRF events the Bluetooth task queued before, not run at once.
      emit(ev: string, arg?: unknown) { self.emit(ev, arg); },
      getAddress() { return "c0:00:00:00:00:00"; },
    };
  }

  dropLink(by: string) {
    if (!this.connected) return;
    this.connected = false;
    this.silent = false;
    this.linkNo++;
    if (this.pending) this.pending.done = "error";
    this.log.push("disconnect by " + by);
    this.advertising = true; // restarted on disconnect even after NRF.sleep() (gatts_disconnect_handler)
    this.emit("disconnect", by === "central" ? 19 : 22);
  }

  // ---------------- the virtual central ----------------

  scan() {
    if (!this.enabled || !this.advertising || this.connected || !this.advert) return [];
    const a = this.advert;
    let name = "", uuids: string[] = [];
    for (let i = 0; i < a.length;) {
      const len = a[i]!, type = a[i + 1]!, body = a.subarray(i + 2, i + 1 + len);
      if (type === 0x09 || type === 0x08) name = Buffer.from(body).toString("latin1");
      if (type === 0x03 || type === 0x02) for (let k = 0; k + 1 < body.length; k += 2) uuids.push(uuid128((body[k + 1]! << 8) | body[k]!));
      i += len + 1;
    }
    return [{ name, serviceUuids: uuids, advert: Buffer.from(a).toString("hex") }];
  }

  connect(mtu = 23) {
    if (!this.scan().length) throw new Error("no connectable device is advertising");
    this.connected = true;
    this.mtu = Math.min(mtu, 500); // esp_ble_gatt_set_local_mtu(500)
    this.advertising = false;
    this.emit("connect", "aa:bb:cc:dd:ee:ff");
    this.sched.runUntil(this.sched.now + this.connIntervalMs);
  }

  discover() {
    if (!this.connected) throw new Error("not connected");
    const services: Record<string, unknown[]> = {};
    for (const c of this.chars) {
      (services[c.service] ||= []).push({
        uuid: uuid128(c.uuid16),
        properties: [c.readable && "read", c.writable && "write", c.writable && "write-without-response"].filter(Boolean),
        descriptors: c.description === undefined ? [] : [{ uuid: uuid128(0x2901), value: c.description }],
      });
    }
    const out = Object.entries(services).map(([k, chars]) => ({ uuid: uuid128(uuid16Of(k)), characteristics: chars }));
    if (this.nus) out.push({ uuid: "6e400001-b5a3-f393-e0a9-e50e24dcca9e", characteristics: [] });
    return out;
  }

  private find(uuid: string): SimChar {
    const u = uuid.toLowerCase();
    let c: SimChar | undefined;
    if (/^0000[0-9a-f]{4}-0000-1000-8000-00805f9b34fb$/.test(u) || /^(0x)?[0-9a-f]{4}$/.test(u)) c = this.chars.find((x) => x.uuid16 === uuid16Of(u.length > 6 ? u.slice(4, 8) : u));
    if (!c) throw new Error("no characteristic " + uuid);
    return c;
  }

  /** Write with response; resolves when the device acknowledges (or fails). */
  write(uuid: string, data: Uint8Array): void {
    if (!this.connected) throw new Error("not connected");
    const c = this.find(uuid);
    if (!c.writable) throw new Error("write not permitted");
    if (data.length > this.mtu - 3) throw new Error(`write of ${data.length} bytes exceeds one ATT PDU (MTU ${this.mtu}); Espruino ESP32 has no prepare/execute write support`);
    if (!data.length) throw new Error("zero-length write rejected (INVALID_ATTR_LEN)");
    const s = this.sched, arrive = s.now + this.connIntervalMs;
    const my = (this.pending = { uuid16: c.uuid16, handled: !!c.onWrite } as { uuid16: number; done?: "ok" | "error"; arrived?: number; handled?: boolean; dispatchedItem?: number });
    s.at(arrive, false, () => {
      if (!this.connected) { my.done = "error"; return; }
      my.arrived = s.now;
      c.value = new Uint8Array(data);
      this.internal["BLE_CHAR_V" + c.idx.toString(16)] = this.realm.str(c.value);
      const cut = data.subarray(0, ONWRITE_MAX);
      if (c.onWrite) s.at(s.now, true, () => { my.dispatchedItem = s.item; c.onWrite!({ data: this.realm.ab(cut) }); });
      if (this.mode === "espruino-2v29") my.done = "ok"; // Write Response before any JS ran
    });
    if (!s.runWhile(() => my.done !== undefined, ATT_TIMEOUT_MS + this.connIntervalMs)) {
      this.pending = undefined;
      this.dropLink("central");
      throw new Error("ATT transaction timed out (30 s) waiting for the write response");
    }
    this.pending = undefined;
    // The response reaches the central one connection event later.
    s.runUntil(s.now + this.connIntervalMs);
    if (my.done === "error") throw new Error("GATT write failed: link dropped by the device");
  }

  /**
   * A central that sends a write and is gone `afterMs` later without waiting for the response (an app
   * that gives up, a phone out of range). Returns whether the write was acknowledged before that.
   */
  writeThenVanish(uuid: string, data: Uint8Array, afterMs: number): boolean {
    if (!this.connected) throw new Error("not connected");
    const c = this.find(uuid), s = this.sched, end = s.now + afterMs;
    const my = (this.pending = { uuid16: c.uuid16 } as { uuid16: number; done?: "ok" | "error"; arrived?: number });
    s.at(s.now + this.connIntervalMs, false, () => {
      if (!this.connected || this.pending !== my) { my.done = "error"; return; }
      my.arrived = s.now;
      c.value = new Uint8Array(data);
      this.internal["BLE_CHAR_V" + c.idx.toString(16)] = this.realm.str(c.value);
      if (c.onWrite) s.at(s.now, true, () => c.onWrite!({ data: this.realm.ab(data.subarray(0, ONWRITE_MAX)) }));
      if (this.mode === "espruino-2v29") my.done = "ok";
    });
    s.runWhile(() => my.done !== undefined, afterMs);
    s.runUntil(end);
    this.pending = undefined;
    this.dropLink("central");
    return my.done === "ok";
  }

  /**
   * A central that goes silent without disconnecting (out of range, app killed): the device notices only when
   * the link supervision timeout expires (at most 32 s in the Core spec; the central picks it), then gets
   * the disconnect event (HCI reason 0x08, connection timeout) and advertises again.
   */
  vanish(supervisionMs: number) {
    if (!this.connected) return;
    const link = ++this.linkNo;
    this.silent = true;
    this.sched.at(this.sched.now + supervisionMs, false, () => {
      if (!this.connected || this.linkNo !== link) return;
      this.silent = false;
      this.connected = false;
      if (this.pending) this.pending.done = "error";
      this.log.push("disconnect by supervision timeout");
      this.advertising = true;
      this.emit("disconnect", 8);
    });
  }
  private linkNo = 0;
  /** The connected central has vanished: the device is still linked but nobody talks. */
  silent = false;

  /** Read; the request reaches the device one connection interval after it is issued. */
  read(uuid: string): Uint8Array {
    if (!this.connected) throw new Error("not connected");
    const c = this.find(uuid);
    if (!c.readable) throw new Error("read not permitted");
    const s = this.sched;
    let value: Uint8Array | undefined;
    s.at(s.now + this.connIntervalMs, false, () => {
      if (!this.connected) return;
      value = c.onRead ? this.realm.bytes(c.onRead()) : c.value;
    });
    s.runWhile(() => value !== undefined || !this.connected, ATT_TIMEOUT_MS);
    if (!value) throw new Error("GATT read failed: not connected");
    s.runUntil(s.now + this.connIntervalMs);
    if (value.length > this.mtu - 1) throw new Error(`value of ${value.length} bytes needs a long read (MTU ${this.mtu}); Espruino ESP32 ignores the read offset`);
    return new Uint8Array(value);
  }

  disconnect() {
    this.dropLink("central");
    this.sched.runUntil(this.sched.now + this.connIntervalMs);
  }

  /** Descriptor read (0x2901). */
  readDescription(uuid: string): string | undefined {
    return this.find(uuid).description;
  }
}

export function uuid128(u16: number): string {
  return "0000" + u16.toString(16).padStart(4, "0") + "-0000-1000-8000-00805f9b34fb";
}
