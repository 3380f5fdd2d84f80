/**
 * The application API: one object, `global.prov` on the board, for TypeScript code bundled from src/app/
 * (app.ts gets it as an argument) and for plain JavaScript saved from the Espruino Web IDE (.bootcde).
 *
 * Events use Espruino's own emitter on every object (src/jswrap_object.c jswrap_object_on / _emit): `on`
 * and `emit` are built-ins, so the API holds no listener code of its own. `emit` looks the listeners up
 * when it is called and queues them for the idle loop; the firmware therefore emits from a timer, so a
 * listener added by .bootcde, which runs after .boot0 (src/jsflash.c jsfLoadBootCodeFromFlash), also
 * hears what happened while .boot0 ran (`start`).
 *
 * Events, as wifi_prov_mgr's (ESP-IDF wifi_prov_mgr.h wifi_prov_cb_event_t) plus the station's own:
 *   start         {name, transport}   provisioning opened ("softap" | "ble" | "both"; "softap" when it opens
 *                                      as the fallback of a station that cannot connect)
 *   cred-recv     {ssid}              a client sent credentials (SetConfig)
 *   cred-fail     {reason, code}      they failed: reason "auth-error" | "network-not-found", code the
 *                                      ESP-IDF wifi_err_reason_t (202 AUTH_FAIL, 201 NO_AP_FOUND, …)
 *   cred-success  {ssid, ip}          they worked (saved to flash)
 *   end           {}                  provisioning closed
 *   connected     {ssid, ip}          the station got an IP (every boot, provisioned or not)
 *   disconnected  {ssid, code}        the station lost or could not reach its network (it retries)
 */

export type ProvEvent = "start" | "cred-recv" | "cred-fail" | "cred-success" | "end" | "connected" | "disconnected";

export interface ProvEventData {
  start: { name: string; transport: "softap" | "ble" | "both" };
  "cred-recv": { ssid: string };
  "cred-fail": { reason: "auth-error" | "network-not-found"; code: number };
  "cred-success": { ssid: string; ip: string };
  end: {};
  connected: { ssid: string; ip: string };
  disconnected: { ssid: string; code: number };
}

/** "idle" before anything, "connecting", "connected", "disconnected" (retrying). */
export type StationState = "idle" | "connecting" | "connected" | "disconnected";

export interface Prov {
  /** The advertised / SoftAP name (PROV_261FCC). */
  readonly name: string;
  /** The proof of possession the board uses ("" without one). */
  readonly pop: string;
  /** The station's state. */
  readonly state: StationState;
  /** Whether provisioning (BLE and/or the SoftAP) is open now. */
  readonly provisioning: boolean;
  on<K extends ProvEvent>(event: K, listener: (data: ProvEventData[K]) => void): void;
  removeAllListeners(event?: ProvEvent): void;
  /** Forget the saved network and reboot into provisioning (the user's program and the PoP stay). */
  reprovision(): void;
  /** Draws a new random PoP, saves it and returns it (in effect from the next boot). */
  newPop?(): string;
}

/** What the firmware may change; the app sees the read-only Prov. */
export interface ProvState extends Prov {
  name: string;
  pop: string;
  state: StationState;
  provisioning: boolean;
  emit(event: string, data: object): void;
}

export function createProv(name: string, reprovision: () => void): ProvState {
  return { name: name, pop: "", state: "idle", provisioning: false, reprovision: reprovision } as any;
}

/**
 * Updates the readable state at once and emits from a timer (see above). `after` is setTimeout.
 * The transient closure lives only until the timer ran.
 */
export function notify<K extends ProvEvent>(p: ProvState, after: (fn: () => void, ms: number) => number, ev: K, data: ProvEventData[K]) {
  if (ev === "connected" || ev === "disconnected") p.state = ev as StationState;
  if (ev === "cred-recv") p.state = "connecting";
  if (ev === "start") p.provisioning = true;
  if (ev === "end") p.provisioning = false;
  after(function () {
    p.emit(ev, data);
  }, 0);
}
