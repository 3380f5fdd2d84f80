// Stand-ins for the ESP32-only parts of Espruino so `npm run bench` can boot the firmware bundle in an
// Espruino interpreter built for Linux (which has no NRF, Wifi or ESP32 objects and whose peek32 reads
// host memory). Only what boot touches; the bench renames peek32/poke32/getSerial in its copy of the bundle.
var NRF = { setServices: function () {}, updateServices: function () {}, setAdvertising: function () {}, disconnect: function () {}, on: function () {} };
var ESP32 = { getState: function () { return { BLE: true, Wifi: true }; }, reboot: function () {}, enableBLE: function () {} };
Modules.addCached("Wifi", "exports.on=function(){};exports.connect=function(){};exports.disconnect=function(){};" +
  "exports.scan=function(cb){cb([]);};exports.getStatus=function(){return {station:'off'};};" +
  "exports.getIP=function(){return {ip:'0.0.0.0'};};exports.getDetails=function(){return {};};" +
  "exports.setHostname=function(){};exports.stopAP=function(){};");
var __rng = 0x12345678;
// peek32/poke32 (renamed in the bundle): the RNG register gives a pseudo-random stream; the RSA block and DPORT
// registers (the accelerated X25519) do not exist on Linux: writes are dropped, reads give 0 with the done and
// CLEAN flags at 1, so the X25519 self-test runs its course, gets a wrong answer and the firmware goes on with
// the JS X25519 (as on a board whose block misbehaves).
function __poke32() {}
function __peek32(a, n) {
  if (a !== 0x3FF75144) return n > 1 ? new Uint32Array(n) : a === 0x3FF02814 || a === 0x3FF02818 ? 1 : 0;
  __rng = (Math.imul ? Math.imul(__rng, 1103515245) : __rng * 1103515245) + 12345 | 0; return __rng >>> 0;
}
function __getSerial() { return "240ac426-1fcc"; }
