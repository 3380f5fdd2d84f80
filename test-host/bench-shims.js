// Stand-ins for the ESP32-only parts of Espruino so `npm run bench` can boot the firmware bundle in an
// Espruino interpreter built for Linux (which has no NRF, Wifi or ESP32 objects and whose peek32 reads
// host memory). Only what boot touches; the bench renames peek32/poke32/getSerial in its copy of the bundle.
var NRF = { setServices: function () {}, updateServices: function () {}, setAdvertising: function () {}, disconnect: function () {}, on: function () {}, emit: function () {} };
// __BLE (set by the bench before these shims): false for a SoftAP build, which runs with BLE off after its one
// ESP32.enableBLE(false) reboot.
var ESP32 = { getState: function () { return { BLE: typeof __BLE === "undefined" ? true : __BLE, Wifi: true }; }, reboot: function () {}, enableBLE: function () {} };
// Wifi.connect "associates" and "gets an IP" 100 ms later, so a scripted session reaches Connected.
Modules.addCached("Wifi", "var h={};exports.on=function(e,f){h[e]=f;};exports.disconnect=function(){};" +
  "exports.connect=function(){setTimeout(function(){if(h.associated)h.associated({mac:'11:22:33:44:55:66',channel:'6'});" +
  "if(h.connected)h.connected({ip:'192.168.43.220'});},100);};" +
  "exports.scan=function(cb){cb([]);};exports.getStatus=function(){return {station:'connected',authMode:'wpa2',channel:6};};" +
  "exports.getIP=function(){return {ip:'0.0.0.0'};};exports.getDetails=function(){return {};};" +
  "exports.setHostname=function(){};exports.stopAP=function(){};exports.startAP=function(s,o,cb){if(cb)cb();};");
// The Linux build has a real http module; bench-session.ts serves the firmware's POSTs to its request callback
// itself. With __HTTP_PORT set (by the bench before these shims) the real server (the same
// libs/network/socketserver.c as on the ESP32: sendData copies, 'drain') also listens there, for page downloads.
var __realHttp = require("http"), __realDgram = require("dgram");
// The captive DNS's socket: the real dgram (same socketserver.c), bound to a free port instead of 53, which
// another resolver on the host may hold. (The wrapped bind is a property the board's socket does not have.)
// With __NO_SOCKETS set (the bench's cost-model runs) the socket is a stand-in that never receives.
Modules.addCached("dgram", typeof __NO_SOCKETS != "undefined" ? "exports.createSocket=function(){return {bind:function(){},on:function(){},send:function(){},close:function(){}};};" :
  "exports.createSocket=function(t){var s=__realDgram.createSocket(t),b=s.bind;s.bind=function(){return b.call(s,0);};return s;};");
Modules.addCached("http", "exports.createServer=function(f){global.__httpServe=f;var s=typeof __HTTP_PORT=='undefined'?0:__realHttp.createServer(f);" +
  "return {listen:function(){if(s)s.listen(__HTTP_PORT);},close:function(){if(s)s.close();}};};");
// A fixed LCG (x ← 69069·x + 1 mod 2^32, exact in doubles) so that bench-session.ts can predict the key pair.
var __rng = 0x12345678;
// peek32/poke32 (renamed in the bundle): the RNG register gives the fixed LCG above; the RSA block and DPORT
// registers (the accelerated X25519) do not exist on Linux: writes are dropped, reads give 0 with the done and
// CLEAN flags at 1, so the X25519 self-test runs its course, gets a wrong answer and the firmware goes on with
// the JS X25519 (as on a board whose block misbehaves).
function __poke32() {}
function __peek32(a, n) {
  if (a !== 0x60035144) return n > 1 ? new Uint32Array(n) : a === 0x3FF02814 || a === 0x3FF02818 ? 1 : 0;
  __rng = (__rng * 69069 + 1) | 0; return __rng >>> 0;
}
function __getSerial() { return "240ac426-1fcc"; }
