// Example application for the Espruino Web IDE: paste it into the editor and "Save to Flash" (it goes to
// Storage .bootcde and runs after the firmware's .boot0 at every boot). The firmware keeps a copy across its
// own ESP32.enableBLE() reboots, so it survives provisioning, reprovision() and a factory reset.
// Once online it logs the station's signal strength every minute; offline it stops.
var rssiTimer = 0;
function logRssi() {
  console.log("[app] RSSI " + require("Wifi").getStatus().rssi + " dBm on " + prov.name);
}
prov.on("connected", function (e) {
  console.log("[app] online at " + e.ip + " (" + e.ssid + ")");
  logRssi();
  if (!rssiTimer) rssiTimer = setInterval(logRssi, 60000);
});
prov.on("disconnected", function (e) {
  console.log("[app] offline (reason " + e.code + ")");
  if (rssiTimer) clearInterval(rssiTimer);
  rssiTimer = 0;
});
