#!/usr/bin/env bash
# npm run flash -- --port PORT [--baud 115200] [--board esp32] [--config sdkconfig] [--erase] [--erase-pop] [--dry-run]
#
# 1. builds dist/flash/<board>.js for the board and config (npm run build -- --out …);
# 2. checks the board over its REPL (tools/board.mjs check): process.env first (an Espruino board, the
#    right BOARD, version >= the board file's, crypto module, and BLE unless the config's transport is
#    softap), then that the bundle fits the board's budget and free Storage;
# 3. uploads the bundle into Storage ".boot0" with the official espruino CLI (EspruinoTools). .boot0 runs
#    at every boot and survives ESP32.enableBLE(false), which erases .bootcde (jswrap_esp32.c);
# 4. with the web portal (CONFIG_PROV_WEB_PORTAL, SoftAP builds): builds the page (tools/build-page.mjs →
#    dist/portal.html.gz), uploads it into Storage "portal.html.gz" (the firmware streams it at GET /) and
#    verifies it as .boot0 is verified (tools/board.mjs verify);
# 5. verifies the upload (length + CRC32), with --erase wipes the saved Wi-Fi credentials (idf.py's
#    erase_flash for this firmware), with --erase-pop the board's random PoP, and reboots the board
#    (tools/board.mjs finish). The user's program (.bootcde) and, without --erase-pop, the PoP stay.
# PORT is a serial device (/dev/ttyUSB0) or tcp://HOST:PORT (the simulator's --console-port).
set -euo pipefail
cd "$(dirname "$0")"
port="" baud=115200 board=esp32 config=sdkconfig erase=0 erase_pop=0 dry=0
usage() {
  cat <<'EOF'
usage: npm run flash -- --port PORT [--baud 115200] [--board esp32|esp32c3|esp32s3] [--config FILE] [--erase] [--erase-pop] [--dry-run]
  --port PORT    serial device (/dev/ttyUSB0) or tcp://127.0.0.1:N (npm run sim -- --console-port N)
  --baud N       serial speed (Espruino on ESP32 uses 115200)
  --board ID     board file boards/ID.json (default esp32)
  --config FILE  configuration (default sdkconfig; edit with npm run menuconfig)
  --erase        also erase the saved Wi-Fi credentials, so the board starts provisioning again
  --erase-pop    also erase the board's random PoP: it draws a new one (print a new label: npm run label)
  --dry-run      print every step without building, connecting or writing
EOF
}
# A bad argument: one line naming it, exit 2.
bad() { echo "flash: $1 (npm run flash -- --help)" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port|--baud|--board|--config)
      [ $# -ge 2 ] && [ -n "$2" ] && [[ "$2" != --* ]] || bad "$1 needs a value"
      v="$2"; case "$1" in --port) port="$v" ;; --baud) baud="$v" ;; --board) board="$v" ;; --config) config="$v" ;; esac
      shift 2 ;;
    --erase) erase=1; shift ;;
    --erase-pop) erase_pop=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad "unknown argument '$1'" ;;
  esac
done
[ -n "$port" ] || { echo "flash: --port is required (e.g. --port /dev/ttyUSB0, or tcp://127.0.0.1:N for the simulator)" >&2; exit 2; }
[[ "$baud" =~ ^[0-9]+$ ]] || { echo "flash: --baud must be a number, not '$baud'" >&2; exit 2; }
case "$port" in
  tcp://*) ;;
  *) [ "$dry" = 1 ] || [ -e "$port" ] || { echo "flash: port $port does not exist: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)" >&2; exit 1; } ;;
esac

run() { echo "+ $*"; [ "$dry" = 1 ] || "$@"; }
erase_flag=(); [ "$erase" = 1 ] && erase_flag=(--erase); [ "$erase_pop" = 1 ] && erase_flag+=(--erase-pop)
bundle="dist/flash/$board.js"
# What the board reported (process.env) as an EspruinoTools board JSON, given to the espruino CLI's --board
# so it does not look the board up on www.espruino.com (offline: an ENOTFOUND error and a "No list of
# built-in modules" box although the upload works). See tools/board.mjs.
board_env="dist/flash/$board.board.json"
run node tools/build.mjs --board "$board" --config "$config" --out "$bundle"
page=""
portal=$(node --input-type=module -e 'import { buildConfig } from "./tools/build-config.mjs";
  console.log(buildConfig({ board: process.argv[1], config: process.argv[2] }).webPortal)' "$board" "$config" 2>/dev/null || echo false)
if [ "$portal" = true ]; then
  run node tools/build-page.mjs
  page=dist/portal.html.gz
fi
run node tools/board.mjs check --port "$port" --baud "$baud" --board "$board" --config "$config" --bundle "$bundle" --env-out "$board_env"
if [ "$dry" = 0 ] && [ ! -x node_modules/.bin/espruino ]; then
  echo "flash: the espruino CLI is missing: run npm install" >&2; exit 1
fi
# --no-ble: the CLI would otherwise start its own Bluetooth scanning (noble), which we never want here.
run node_modules/.bin/espruino --no-ble -q --board "$board_env" -p "$port" -b "$baud" --storage ".boot0:$bundle" -e "print(\"upload sent\")"
if [ -n "$page" ]; then
  run node_modules/.bin/espruino --no-ble -q --board "$board_env" -p "$port" -b "$baud" --storage "portal.html.gz:$page" -e "print(\"upload sent\")"
  run node tools/board.mjs verify --port "$port" --baud "$baud" --bundle "$page" --file portal.html.gz
fi
run node tools/board.mjs finish --port "$port" --baud "$baud" --bundle "$bundle" "${erase_flag[@]}"
[ "$dry" = 1 ] || echo "flash: done. Watch it boot: npm run monitor -- --port $port"
