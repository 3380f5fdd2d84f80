#!/usr/bin/env node
// node tools/build-page.mjs: builds the provisioning web page the board serves (web/portal) into ONE HTML file
// with its script and style inline (there is no internet on the board's access point), and writes it gzip-
// compressed (Zopfli) to dist/portal.html.gz, the Storage file the firmware sends with Content-Encoding: gzip
// (dist/portal.html is the same page uncompressed, to look at). The script is ES2017 for phone browsers,
// bundled from web/portal/*.ts and the firmware's own src/ modules (codec, AES-CTR, SHA-256, X25519).
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { gzipAsync } from "@gfx/zopfli";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { minify } from "terser";
import { root } from "./config.mjs";

export const PAGE_OUT = "dist/portal.html.gz";
/** What the page may cost on the wire (issue 25's goal); a bigger page fails the build. */
export const PAGE_BUDGET = 8192;

/**
 * What the last build read and made (dist/portal.inputs.json): every input file's SHA-256 — the modules rollup
 * loaded, the template, this script, the tsconfig and package-lock.json (the tools' versions) — and the figures.
 * npm run build, npm run flash and the tests build often; an unchanged page is not bundled and compressed again
 * (≈ 5 s of CPU).
 */
const STAMP = "dist/portal.inputs.json";
const FIXED_INPUTS = ["web/portal/index.html", "web/tsconfig.json", "tools/build-page.mjs", "package-lock.json"];
const digest = (file) => {
  try { return crypto.createHash("sha256").update(fs.readFileSync(path.resolve(root, file))).digest("hex"); } catch { return ""; }
};

/** The previous build's figures when no input changed and its output is still there, else undefined. */
function upToDate() {
  try {
    const st = JSON.parse(fs.readFileSync(path.join(root, STAMP), "utf8"));
    if (digest(PAGE_OUT) !== st.outHash) return undefined;
    for (const [file, hash] of Object.entries(st.inputs)) if (digest(file) !== hash) return undefined;
    return st.page;
  } catch {
    return undefined;
  }
}

/** Writes whole then renames: a simulator starting meanwhile (tests run in parallel) never reads half a file. */
function writeAtomic(file, data) {
  const tmp = path.join(root, `${file}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, path.join(root, file));
}

async function script() {
  const bundle = await rollup({
    input: path.join(root, "web/portal/main.ts"),
    treeshake: { moduleSideEffects: false },
    plugins: [typescript({ tsconfig: path.join(root, "web/tsconfig.json"), noEmitOnError: true, outputToFilesystem: false })],
    onwarn(w, warn) {
      if (w.code === "CIRCULAR_DEPENDENCY") throw new Error(w.message);
      warn(w);
    },
  });
  const { output } = await bundle.generate({ format: "iife", generatedCode: "es2015" });
  const inputs = bundle.watchFiles.filter((f) => !f.startsWith("\0")).map((f) => path.relative(root, f));
  await bundle.close();
  const min = await minify(output[0].code, { ecma: 2017, toplevel: true, compress: { passes: 2 }, format: { comments: false } });
  // Inline in <script>: a "</" inside a string literal must not end the element.
  return { js: min.code.replace(/<\//g, "<\\/"), inputs };
}

/** Collapses the template's whitespace: newlines between tags, indentation and spaces around CSS punctuation. */
function squeeze(html) {
  return html
    .replace(/<style>([\s\S]*?)<\/style>/, (_, css) => "<style>" + css.replace(/\s+/g, " ").replace(/\s*([{}:;,>])\s*/g, "$1").replace(/;}/g, "}").trim() + "</style>")
    .replace(/>\s+</g, "><")
    .trim();
}

export async function buildPage() {
  const cached = upToDate();
  if (cached) return cached;
  const tpl = fs.readFileSync(path.join(root, "web/portal/index.html"), "utf8");
  if (!tpl.includes("<!--SCRIPT-->")) throw new Error("web/portal/index.html lacks its <!--SCRIPT--> marker");
  const { js, inputs } = await script();
  const html = squeeze(tpl).replace("<!--SCRIPT-->", () => "<script>" + js + "</script>");
  // Zopfli: gzip that any gzip reader takes, ≈ 5 % smaller than zlib's level 9 (every byte is sent on each page load).
  const gz = Buffer.from(await gzipAsync(Buffer.from(html), { numiterations: 15 }));
  if (gz.length > PAGE_BUDGET) throw new Error(`the page is ${gz.length} bytes gzip, over its ${PAGE_BUDGET}-byte budget`);
  fs.mkdirSync(path.join(root, "dist"), { recursive: true });
  writeAtomic("dist/portal.html", html);
  writeAtomic(PAGE_OUT, gz);
  const page = { out: PAGE_OUT, raw: Buffer.byteLength(html), gzip: gz.length, script: Buffer.byteLength(js) };
  const files = [...FIXED_INPUTS, ...inputs];
  writeAtomic(STAMP, JSON.stringify({ inputs: Object.fromEntries(files.map((f) => [f, digest(f)])), outHash: digest(PAGE_OUT), page }, null, 1));
  return page;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const p = await buildPage();
    console.log(`built ${p.out}: ${p.gzip} bytes gzip (${p.raw} bytes HTML, ${p.script} of them script)`);
  } catch (e) {
    console.error("build-page failed: " + (e.message || e));
    process.exit(1);
  }
}
