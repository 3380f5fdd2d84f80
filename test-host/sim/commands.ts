/**
 * Commands typed on `npm run sim`'s standard input, acting on the simulated world around the board:
 *   button SECONDS [GPIO]        hold a button to ground (default GPIO0, the BOOT button) for SECONDS
 *   ap SSID password NEW         the access point SSID changes its password
 *   ap SSID remove               it goes off air
 *   ap SSID add PASSWORD         it (re)appears with that password (WPA2)
 * Returns what happened, or throws with why not.
 */
import type { SimDevice } from "./device";

export const COMMANDS_HELP = `commands on standard input while it runs:
  button SECONDS [GPIO]   hold a button to ground for SECONDS (default GPIO0, the DevKit's BOOT button)
  ap SSID password NEW    that access point changes its password (its stations drop off)
  ap SSID remove          it goes off air
  ap SSID add PASSWORD    it (re)appears with that WPA2 password`;

export function simCommand(d: SimDevice, line: string): string {
  const w = line.trim().split(/\s+/);
  if (w[0] === "button" && w.length <= 3 && Number(w[1]) > 0) {
    const pin = w[2] === undefined ? 0 : Number(w[2]);
    if (!Number.isInteger(pin) || pin < 0 || pin > 39) throw new Error(`GPIO must be 0-39, not '${w[2]}'`);
    d.press(pin, Number(w[1]) * 1000);
    return `GPIO${pin} held low for ${w[1]} s`;
  }
  if (w[0] === "ap" && w.length >= 3) {
    const [, ssid, what, arg] = w as [string, string, string, string?];
    if (what === "remove" && w.length === 3) { d.wifi.changeAp(ssid, "remove"); return `${ssid} is off air`; }
    if (what === "password" && arg && w.length === 4) { d.wifi.changeAp(ssid, { password: arg }); return `${ssid} now has password ${arg}`; }
    if (what === "add" && arg && w.length === 4) {
      d.wifi.changeAp(ssid, { add: { ssid, password: arg, auth: "wpa2", ip: "192.168.43.220", channel: 6, bssid: "11:22:33:44:55:66" } });
      return `${ssid} is on air with password ${arg}`;
    }
  }
  throw new Error(`unknown command '${line.trim()}'\n${COMMANDS_HELP}`);
}
