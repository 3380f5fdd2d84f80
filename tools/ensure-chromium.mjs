#!/usr/bin/env node
// node tools/ensure-chromium.mjs: the browser tests (test-host/tests/portal.test.ts) drive Debian's Chromium
// (/usr/bin/chromium) through playwright-core, which never downloads a browser. npm test runs this first: with
// Chromium missing it installs Debian's `chromium` package when running as root (a developer machine or CI),
// else it fails in one line saying what to install, so the browser tests are never skipped silently.
import fs from "node:fs";
import { execFileSync } from "node:child_process";

const CHROMIUM = "/usr/bin/chromium";

if (!fs.existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) {
    console.error(`ensure-chromium: ${CHROMIUM} is missing and this is not root: install Debian's chromium package (sudo apt-get install chromium), then rerun`);
    process.exit(1);
  }
  console.error(`ensure-chromium: ${CHROMIUM} is missing: apt-get install chromium (for the web portal's browser tests)`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: ["ignore", "ignore", "inherit"], env });
  } catch (e) {
    console.error(`ensure-chromium: apt-get install chromium failed (${e.message.split("\n")[0]}): install it by hand, then rerun`);
    process.exit(1);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`ensure-chromium: the chromium package installed no ${CHROMIUM}`);
    process.exit(1);
  }
}
