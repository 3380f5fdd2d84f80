/**
 * The provisioning state machine behind prov-config (ESP-IDF examples/provisioning/ble_prov app_prov.c
 * and app_prov_handlers.c): credentials received → applied → station connecting → connected or failed.
 * A failure leaves the device provisionable: a new SetConfig + ApplyConfig starts over, no reboot.
 * Log lines and tags follow the seed example's serial output.
 */
import { bytesToStr } from "../core/bytes";
import { Logger } from "../core/log";
import { RespGetStatus, Status, WifiConnectFailedReason, WifiStationState } from "../proto/schema.gen";
import { ClockPort, WifiConnectedInfo, WifiPort } from "../ports/ports";
import { Credentials } from "./credentials";
import { ProvEvent, ProvEventData } from "../app/api";
import { WifiConfig, WifiConfigHandlers } from "./wifi-config";
import { WifiCtrlHandlers } from "./wifi-ctrl";

/** wifi_err_reason_t codes (esp_wifi_types.h). */
export const enum Reason {
  AUTH_EXPIRE = 2, MIC_FAILURE = 14, FOURWAY_HANDSHAKE_TIMEOUT = 15, BEACON_TIMEOUT = 200, NO_AP_FOUND = 201,
  AUTH_FAIL = 202, ASSOC_FAIL = 203, HANDSHAKE_TIMEOUT = 204,
}

/** The old ble_prov mapping: these mean the credentials are wrong; 201 means the SSID is not there. */
export function failReason(reason: number): WifiConnectFailedReason | -1 {
  if (reason === Reason.NO_AP_FOUND) return WifiConnectFailedReason.NetworkNotFound;
  if (reason === Reason.AUTH_FAIL || reason === Reason.AUTH_EXPIRE || reason === Reason.FOURWAY_HANDSHAKE_TIMEOUT ||
    reason === Reason.HANDSHAKE_TIMEOUT || reason === Reason.MIC_FAILURE || reason === Reason.ASSOC_FAIL ||
    reason === Reason.BEACON_TIMEOUT) return WifiConnectFailedReason.AuthError;
  return -1;
}

/** Shows the length, never the secret. */
export function mask(pass: Uint8Array): string {
  return pass.length ? "******** (" + pass.length + " bytes)" : "(none)";
}

export interface ManagerOptions {
  wifi: WifiPort;
  clock: ClockPort;
  /** Tags app_prov, app_prov_handler, app. */
  log: Logger;
  logHandler: Logger;
  logApp: Logger;
  /** Delay between ApplyConfig and the connect, so the reply goes out first (ESP-IDF: 1 s). */
  applyDelayMs: number;
  /** First retry delay of the station; it doubles per failed attempt up to maxRetryMs. */
  retryDelayMs: number;
  maxRetryMs?: number;
  /** Application events (src/app/api.ts): cred-recv/-fail/-success, connected, disconnected. */
  emit?<K extends ProvEvent>(ev: K, data: ProvEventData[K]): void;
  onConnected(c: Credentials, info: WifiConnectedInfo): void;
  /** The station gave up on the applied credentials (ConnectionFailed). */
  onFailed?(): void;
  /** prov-ctrl Reprov: forget what was saved (the caller erases flash and cancels the auto-stop). */
  onReprov?(): void;
}

export interface Manager {
  handlers: WifiConfigHandlers;
  /** prov-ctrl (wifi_prov_mgr_reset_sm_state_on_failure / _for_reprovision). */
  ctrl: WifiCtrlHandlers;
  /** Connects with stored credentials (normal boot), without the provisioning states. */
  startStation(c: Credentials): void;
  state(): WifiStationState | -1;
}

export function createManager(o: ManagerOptions): Manager {
  var pending: Credentials | undefined, active: Credentials | undefined;
  // -1 = nothing applied yet
  var state: WifiStationState | -1 = -1, reason: WifiConnectFailedReason = WifiConnectFailedReason.AuthError;
  // wait: the station's next retry delay (ms), doubling per failure up to maxRetryMs.
  var info: WifiConnectedInfo | undefined, timer = 0, attempt = 0, wait = o.retryDelayMs;
  // fromStation: the attempt under way is the station's own (saved network), not credentials being tried.
  var fromStation = false;
  var log = o.log;
  function emit<K extends ProvEvent>(ev: K, d: ProvEventData[K]) {
    if (o.emit) o.emit(ev, d);
  }

  function connect(c: Credentials, provisioning: boolean) {
    var my = ++attempt, ssid = bytesToStr(c.ssid);
    fromStation = !provisioning;
    o.wifi.connect(ssid, bytesToStr(c.pass), {
      connected: function (i) {
        if (my !== attempt) return;
        info = i;
        state = WifiStationState.Connected;
        wait = o.retryDelayMs;
        log.i("STA Got IP");
        o.logApp.i("got ip:" + i.ip);
        if (provisioning) {
          o.onConnected(c, i);
          emit("cred-success", { ssid: ssid, ip: i.ip });
        }
        // A network that worked is known-good: a later drop is retried whatever its reason.
        provisioning = false;
        fromStation = true;
        emit("connected", { ssid: ssid, ip: i.ip });
      },
      disconnected: function (r) {
        if (my !== attempt) return;
        log.e("STA Disconnected");
        log.e("Disconnect reason : " + r);
        var f = failReason(r);
        if (f === WifiConnectFailedReason.NetworkNotFound) log.i("STA AP Not found");
        else if (f === WifiConnectFailedReason.AuthError) log.i("STA Auth Error");
        if (f === -1 || !provisioning) {
          // Not a credentials problem (or a known-good network dropped): keep trying with a growing delay
          // (retryDelayMs doubling up to maxRetryMs), report Connecting.
          state = WifiStationState.Connecting;
          var ms = wait;
          wait = Math.min(wait * 2, o.maxRetryMs || o.retryDelayMs);
          log.i("Retrying in " + ms / 1000 + " s");
          if (!provisioning) emit("disconnected", { ssid: ssid, code: r });
          timer = o.clock.after(function () {
            timer = 0;
            if (my === attempt) connect(c, provisioning);
          }, ms);
          return;
        }
        state = WifiStationState.ConnectionFailed;
        reason = f;
        emit("cred-fail", { reason: f === WifiConnectFailedReason.NetworkNotFound ? "network-not-found" : "auth-error", code: r });
        if (o.onFailed) o.onFailed();
      },
    });
  }

  function cancel() {
    if (timer) o.clock.cancel(timer);
    timer = 0;
    attempt++;
  }

  var handlers: WifiConfigHandlers = {
    getStatus: function (): RespGetStatus {
      if (state === WifiStationState.Connected && info && active) {
        o.logHandler.i("Connected state");
        return {
          status: Status.Success, sta_state: WifiStationState.Connected,
          connected: { ip4_addr: info.ip, auth_mode: info.auth, ssid: active.ssid, bssid: info.bssid, channel: info.channel },
        };
      }
      if (state === WifiStationState.Connecting) {
        o.logHandler.i("Connecting state");
        return { status: Status.Success, sta_state: WifiStationState.Connecting };
      }
      o.logHandler.i("Disconnected state");
      if (state === WifiStationState.ConnectionFailed) {
        return { status: Status.Success, sta_state: WifiStationState.ConnectionFailed, fail_reason: reason };
      }
      return { status: Status.Success, sta_state: WifiStationState.Disconnected };
    },
    setConfig: function (c: WifiConfig) {
      if (state === WifiStationState.Connected) {
        o.logHandler.w("Already connected; new credentials refused");
        return Status.InternalError;
      }
      if (c.ssid.length > o.wifi.maxSsid || c.passphrase.length > o.wifi.maxPass) {
        // Espruino's Wifi.connect would silently cut them (jswrap_esp32_network.c copies 31/63 chars).
        o.logHandler.e("SSID (" + c.ssid.length + " bytes) or passphrase (" + c.passphrase.length +
          " bytes) longer than this firmware can use (" + o.wifi.maxSsid + "/" + o.wifi.maxPass + ")");
        return Status.InvalidArgument;
      }
      pending = { ssid: c.ssid, pass: c.passphrase };
      emit("cred-recv", { ssid: bytesToStr(c.ssid) });
      o.logHandler.i("WiFi Credentials Received : \n\tssid " + bytesToStr(c.ssid) + " \n\tpassword " + mask(c.passphrase));
      return Status.Success;
    },
    applyConfig: function () {
      if (!pending) {
        o.logHandler.e("WiFi config not set");
        return Status.InternalError;
      }
      if (state === WifiStationState.Connecting && !fromStation) {
        // As wifi_prov_mgr_configure_sta (manager.c: state >= CRED_RECV). Here it also keeps the attempt in
        // progress honest: Espruino's Wifi.connect while the station still connects only sets the config and
        // waits for a STA_START that does not come again (libs/network/esp32/jswrap_esp32_network.c), so the
        // old attempt's retries and its disconnect would be taken for the new credentials'.
        o.logHandler.e("Wi-Fi credentials already received by provisioning app");
        return Status.InternalError;
      }
      // Fallback provisioning (the station was retrying its saved network): stop that attempt first.
      if (fromStation) o.wifi.disconnect();
      cancel();
      wait = o.retryDelayMs;
      fromStation = false;
      active = pending;
      pending = undefined;
      state = WifiStationState.Connecting;
      info = undefined;
      var c = active;
      timer = o.clock.after(function () {
        timer = 0;
        log.i("STA Start");
        connect(c, true);
      }, o.applyDelayMs);
      o.logHandler.i("WiFi Credentials Applied");
      return Status.Success;
    },
  };

  /** Back to "nothing applied": stop any attempt and let go of the station. */
  function forget() {
    cancel();
    pending = active = info = undefined;
    state = -1;
    o.wifi.disconnect();
  }

  var ctrl: WifiCtrlHandlers = {
    reset: function () {
      if (state !== WifiStationState.ConnectionFailed) {
        o.logHandler.e("Reset refused: no failed attempt (state " + state + ")");
        return Status.InternalError;
      }
      forget();
      o.logHandler.i("State reset after failure");
      return Status.Success;
    },
    reprov: function () {
      forget();
      if (o.onReprov) o.onReprov();
      o.logHandler.i("Reprovisioning: saved network forgotten");
      return Status.Success;
    },
  };

  return {
    handlers: handlers,
    ctrl: ctrl,
    startStation: function (c) {
      active = c;
      state = WifiStationState.Connecting;
      connect(c, false);
    },
    state: function () {
      return state;
    },
  };
}
