#!/usr/bin/env bash
# npm run flash -- --port /dev/ttyUSB0 [--baud 115200] [--board esp32] [--dry-run]
# Builds for the board and uploads dist/firmware.js into Storage ".boot0" with the official `espruino`
# CLI (EspruinoTools). .boot0 survives ESP32.enableBLE(false), which erases .bootcde (jswrap_esp32.c).
# Not yet here (issue 5): --erase, the process.env version/BLE/crypto checks, tcp:// ports.
set -euo pipefail
port="" baud=115200 board=esp32 dry=0
usage() { echo "usage: npm run flash -- --port PORT [--baud 115200] [--board esp32|esp32c3|esp32s3] [--dry-run]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:-}"; shift 2 ;;
    --baud) baud="${2:-}"; shift 2 ;;
    --board) board="${2:-}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage ;;
    *) echo "flash: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$port" ] || { echo "flash: --port is required (e.g. /dev/ttyUSB0)" >&2; usage; }
run() { echo "+ $*"; [ "$dry" = 1 ] || "$@"; }
run node tools/build.mjs --board "$board"
if [ "$dry" = 0 ] && [ ! -e "$port" ]; then echo "flash: port $port does not exist (is the board plugged in? ls /dev/ttyUSB* /dev/ttyACM*)" >&2; exit 1; fi
if [ "$dry" = 0 ] && ! npx --no-install espruino --help >/dev/null 2>&1; then
  echo "flash: the espruino CLI is not installed: npm install --no-save espruino" >&2; exit 1
fi
run npx --no-install espruino -p "$port" -b "$baud" --storage .boot0:dist/firmware.js -e "E.reboot ? E.reboot() : ESP32.reboot()"
