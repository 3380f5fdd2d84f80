/**
 * The ESP32's NVS as Espruino's ESP32 port uses it (targets/esp32/jshardwareESP32.c ESP32_Get_NVS_Status /
 * ESP32_Set_NVS_Status): namespace "nvs", u32 keys "bleStatus" and "wifiStatus", 1 when absent
 * (ESP32HARDWAREDEFAULT, jshardwareESP32.h). ESP32.enableBLE / enableWifi write them before esp_restart()
 * (targets/esp32/jswrap_esp32.c), so they outlive a reset and a power cycle. NVS is its own partition, not the
 * Storage area: uploading code or erasing Storage keeps it. Kept in a JSON file next to the flash file (FILE.nvs.json).
 */
import fs from "node:fs";

export class SimNvs {
  private u32: Record<string, number> = {};
  constructor(public file?: string) {
    if (file && fs.existsSync(file)) this.u32 = JSON.parse(fs.readFileSync(file, "utf8"));
  }
  /** The NVS file that goes with a simulated flash file. */
  static besideFlash(flashFile: string): string {
    return flashFile.replace(/\.json$/, "") + ".nvs.json";
  }
  private get(key: string): boolean { return (this.u32[key] ?? 1) !== 0; }
  private set(key: string, on: boolean) {
    this.u32[key] = on ? 1 : 0;
    if (this.file) fs.writeFileSync(this.file, JSON.stringify(this.u32));
  }
  get ble() { return this.get("bleStatus"); }
  set ble(on: boolean) { this.set("bleStatus", on); }
  get wifi() { return this.get("wifiStatus"); }
  set wifi(on: boolean) { this.set("wifiStatus", on); }
}
