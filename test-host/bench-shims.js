// Stand-ins for the ESP32-only parts of Espruino so `npm run bench` can boot the firmware bundle in an
// Espruino interpreter built for Linux (which has no NRF, Wifi or ESP32 objects and whose peek32 reads
// host memory). Only what boot touches; the bench renames peek32/getSerial in its copy of the bundle.
var NRF = { setServices: function () {}, updateServices: function () {}, setAdvertising: function () {}, disconnect: function () {}, on: function () {} };
// BLE off, as a SoftAP-only build (the default) runs after its one ESP32.enableBLE(false) reboot.
var ESP32 = { getState: function () { return { BLE: false, Wifi: true }; }, reboot: function () {}, enableBLE: function () {} };
Modules.addCached("Wifi", "exports.on=function(){};exports.connect=function(){};exports.disconnect=function(){};" +
  "exports.scan=function(cb){cb([]);};exports.getStatus=function(){return {station:'off'};};" +
  "exports.getIP=function(){return {ip:'0.0.0.0'};};exports.getDetails=function(){return {};};" +
  "exports.setHostname=function(){};exports.stopAP=function(){};exports.startAP=function(s,o,cb){if(cb)cb();};");
// The Linux build has a real http module; a listening server would keep the interpreter running.
Modules.addCached("http", "exports.createServer=function(){return {listen:function(){},close:function(){}};};");
var __rng = 0x12345678;
function __peek32() { __rng = (Math.imul ? Math.imul(__rng, 1103515245) : __rng * 1103515245) + 12345 | 0; return __rng >>> 0; }
function __getSerial() { return "240ac426-1fcc"; }
