#!/usr/bin/env node
// npm run build [-- --board esp32|esp32c3|esp32s3] [--config FILE] [--out FILE]
// Writes dist/firmware.js (minified ES5, what npm start and npm run sim boot; flash.sh builds its own
// dist/flash/<board>.js), dist/firmware.debug.js and dist/build-info.json, and with CONFIG_PROV_WEB_PORTAL the page
// dist/portal.html.gz (tools/build-page.mjs); fails on a bad board file or config value, or an Espruino-subset
// violation.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { rollup } from "rollup";
import { minify } from "terser";
import { firmwareConfig } from "../rollup.config.js";
import { buildConfig } from "./build-config.mjs";
import { check } from "./subset-check.mjs";
import { freeBootOnly } from "./boot-only.mjs";
import { buildPage } from "./build-page.mjs";
import { root } from "./config.mjs";

const HELP = `usage: npm run build -- [--board ID] [--config FILE] [--out FILE]
  --board ID     board file boards/ID.json (default esp32)
  --config FILE  sdkconfig-style configuration (default sdkconfig; edit with npm run menuconfig)
  --out FILE     output bundle (default dist/firmware.js); its unminified twin goes next to it as .debug.js
  --app FILE     TypeScript application module bundled instead of src/app/app.ts (it exports app(prov)),
                 e.g. src/app/examples/rssi.ts`;

function args(argv) {
  const o = { board: "esp32", config: "sdkconfig", out: "dist/firmware.js" };
  const usage = (msg) => { console.error(`build: ${msg} (npm run build -- --help)`); process.exit(2); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") { console.log(HELP); process.exit(0); }
    else if (a === "--board" || a === "--config" || a === "--out" || a === "--app") {
      if (!argv[i + 1] || argv[i + 1].startsWith("--")) usage(`${a} needs a value`);
      o[a.slice(2)] = argv[++i];
    } else usage(`unknown argument '${a}'`);
  }
  return o;
}

/** terser options for the bundle (npm run bench minifies the modules it measures with these too). */
export const MINIFY = {
  ecma: 5,
  toplevel: true,
  // Function declarations first in each scope: Espruino does not hoist (docs/interpreter-measurements.md §5).
  compress: { hoist_funs: true, passes: 2, unsafe_arrows: false },
  mangle: { reserved: ["onInit"] },
  format: { ascii_only: true, comments: false },
};

export async function build(opts) {
  execFileSync(process.execPath, [path.join(root, "tools/gen-proto.mjs")], { stdio: "inherit" });
  const cfg = buildConfig(opts); // validates board + config before compiling
  if (opts.app && !fs.existsSync(opts.app)) throw new Error(`--app ${opts.app} not found`);
  const rc = firmwareConfig(opts);
  const bundle = await rollup(rc);
  const { output } = await bundle.generate(rc.output);
  await bundle.close();
  const debug = output[0].code;
  const min = await minify(debug, MINIFY);
  min.code = freeBootOnly(min.code).code;
  fs.mkdirSync(path.join(root, "dist"), { recursive: true });
  const out = path.resolve(root, opts.out || "dist/firmware.js");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out.replace(/\.js$/, ".debug.js"), debug);
  fs.writeFileSync(out, min.code);
  const violations = check(min.code);
  if (violations.length) {
    for (const v of violations) console.error(`${path.relative(root, out)}:${v.line}:${v.col}: [${v.rule}] ${v.message}`);
    throw new Error(`${violations.length} Espruino-subset violation(s) in the bundle`);
  }
  const info = { board: opts.board, config: opts.config, out: opts.out || "dist/firmware.js", bytes: min.code.length, debugBytes: debug.length, secVer: cfg.secVer };
  if (cfg.webPortal) info.page = await buildPage(); // dist/portal.html.gz, uploaded next to the bundle
  if (!opts.out || opts.out === "dist/firmware.js") fs.writeFileSync(path.join(root, "dist/build-info.json"), JSON.stringify(info, null, 2) + "\n");
  return info;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const info = await build(args(process.argv.slice(2)));
    console.log(`built ${path.relative(root, path.resolve(root, info.out))} for ${info.board}: ${info.bytes} bytes minified (${info.debugBytes} unminified), Espruino subset OK`);
    if (info.page) console.log(`built ${info.page.out}: ${info.page.gzip} bytes gzip (${info.page.raw} bytes HTML)`);
  } catch (e) {
    console.error("build failed: " + (e.message || e));
    process.exit(1);
  }
}
