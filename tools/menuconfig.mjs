#!/usr/bin/env node
// npm run menuconfig [-- --config FILE] [--set KEY=VALUE ...] [--list]
// The firmware's `idf.py menuconfig`: a terminal UI over config/schema.json (terminal-kit), or, with
// --set / --list, a non-interactive form for scripts. Writes the config file keeping its comments.
import fs from "node:fs";
import termkit from "terminal-kit";
import { schema, readConfigProblems, defaults, writeConfig, parseInput, formatValue, visible, nearestKey, ConfigError } from "./config.mjs";

const HELP = `usage: npm run menuconfig -- [--config FILE] [--set KEY=VALUE ...] [--list]
  --config FILE     configuration file (default sdkconfig; created with defaults if missing)
  --set KEY=VALUE   set an option and save (KEY with or without CONFIG_; strings may omit quotes)
  --list            print every option, its value, what is allowed, and whether it applies
Without --set/--list: the interactive menu. Keys: Up/Down move, Enter edit, ? help, S save and quit, Q quit.
A bad line in the file (a typo) does not stop either: the menu opens with the option flagged, and --set of
that option replaces the bad value.`;

function allowedText(o) {
  if (o.type === "bool") return "y/n";
  if (o.type === "int") return `${o.min}..${o.max}`;
  if (o.type === "choice") return o.choices.join("|");
  return `text, ≤${o.maxLength} chars`;
}

/** The file's values and its problems (a missing file: the defaults, none). */
function load(file) {
  return fs.existsSync(file) ? readConfigProblems(file) : { values: defaults(), problems: [] };
}

/** Bad lines of known options, by key: the menu flags them, and saving leaves the ones nobody fixed as they were. */
const badKeys = (problems) => new Map(problems.filter((p) => p.key).map((p) => [p.key, p]));

/** After saving: one stderr line per problem the file still has (the build refuses it until fixed). */
function stillWrong(file) {
  for (const p of readConfigProblems(file).problems) console.error(`menuconfig: still wrong: ${p.message}` + (p.key ? ` (fix: npm run menuconfig -- --set ${p.key}=VALUE)` : " (edit the file)"));
}

function list(file) {
  const { values: v, problems } = load(file), bad = badKeys(problems);
  for (const o of schema.options) {
    const on = visible(o, v), b = bad.get(o.key);
    console.log(`CONFIG_${o.key}=${b ? b.raw : formatValue(o, v[o.key])}`.padEnd(44) + ` [${allowedText(o)}] ${o.title}` + (on ? "" : ` (not used unless ${o.dependsOn})`) +
      (b ? `  ✗ ${b.message}` : ""));
  }
  for (const p of problems.filter((x) => !x.key)) console.log(`✗ ${p.message}`);
}

function set(file, pairs) {
  const { values: v, problems } = load(file);
  for (const p of pairs) {
    const m = /^(?:CONFIG_)?([A-Za-z0-9_]+)=([\s\S]*)$/.exec(p);
    if (!m) throw new ConfigError(`--set ${p}: expected KEY=VALUE`);
    const o = schema.options.find((x) => x.key === m[1].toUpperCase());
    if (!o) throw new ConfigError(`--set ${p}: unknown option ${m[1]} (did you mean ${nearestKey(m[1].toUpperCase())}? --list shows them all)`);
    try {
      v[o.key] = parseInput(o, m[2]);
    } catch (msg) {
      throw new ConfigError(`--set CONFIG_${o.key}=${m[2]} ${msg}`);
    }
    for (let i = problems.length - 1; i >= 0; i--) if (problems[i].key === o.key) problems.splice(i, 1);
  }
  writeConfig(file, v, new Set(badKeys(problems).keys()));
  console.log(`saved ${file}`);
  stillWrong(file);
}

/** The interactive menu. Resolves when the user saves or quits. */
function menu(file) {
  const term = termkit.terminal;
  const { values, problems } = load(file), saved = JSON.stringify(values), bad = badKeys(problems);
  // A bad line opens the menu on its option, flagged, with the reason below; other problems are listed there.
  const more = problems.length > 1 ? ` (+${problems.length - 1} more: npm run menuconfig -- --list)` : "";
  let cur = 0, top = 0, message = problems.length ? `line ${problems[0].line}: ${problems[0].what}${more}` : "", showHelp = false, busy = false;
  const firstBad = schema.options.filter((o) => visible(o, values)).findIndex((o) => bad.has(o.key));
  if (firstBad >= 0) cur = firstBad;
  const shown = () => schema.options.filter((o) => visible(o, values));
  const W = () => Math.max(40, term.width || 80), H = () => Math.max(12, term.height || 24);

  function draw() {
    const opts = shown(), w = W(), h = H(), rows = h - 9; // title 2, option help 5, message, keys
    cur = Math.min(cur, opts.length - 1);
    if (cur < top) top = cur;
    if (cur >= top + rows) top = cur - rows + 1;
    term.clear();
    term.moveTo(1, 1).bold(` Provisioning firmware configuration: ${file}`.slice(0, w));
    term.moveTo(1, 2)("─".repeat(w));
    opts.slice(top, top + rows).forEach((o, i) => {
      const b = bad.get(o.key), label = ` ${o.title}`.padEnd(38).slice(0, 38);
      const val = b ? ` ${b.raw}  ✗ not valid: Enter to fix` : ` ${formatValue(o, values[o.key])}`;
      const line = (label + val).padEnd(w - 1).slice(0, w - 1);
      term.moveTo(1, 3 + i);
      if (top + i === cur) term.inverse(line); else term(line);
    });
    const o = opts[cur];
    term.moveTo(1, h - 6)("─".repeat(w));
    term.moveTo(1, h - 5).bold(` CONFIG_${o.key}`)(`  [${allowedText(o)}]`);
    if (showHelp) {
      const words = o.help.split(" "), out = [];
      let l = " ";
      for (const wd of words) { if ((l + wd).length > w - 2) { out.push(l); l = " "; } l += wd + " "; }
      out.push(l);
      out.slice(0, 3).forEach((t, i) => term.moveTo(1, h - 4 + i)(t));
    } else term.moveTo(1, h - 4).dim(" ? shows this option's help");
    if (message) term.moveTo(1, h - 1).bold(` ${message}`.slice(0, w - 1));
    term.moveTo(1, h)(" ↑↓ move  Enter edit  ? help  S save and quit  Q quit");
  }

  return new Promise((resolve) => {
    const done = (msg) => {
      term.grabInput(false);
      term.hideCursor(false);
      term.fullscreen(false);
      console.log(msg);
      resolve();
    };
    async function edit() {
      const o = shown()[cur];
      if (o.type === "bool") { values[o.key] = !values[o.key]; bad.delete(o.key); message = `${o.key} = ${formatValue(o, values[o.key])}`; return; }
      if (o.type === "choice") {
        term.moveTo(1, H() - 6).eraseDisplayBelow().bold(` ${o.title}: choose with ↑↓ and Enter, Esc cancels`);
        const r = await term.singleColumnMenu(o.choices.map((c) => ` ${c} `), { y: H() - 5, selectedIndex: Math.max(0, o.choices.indexOf(String(values[o.key]))), cancelable: true, exitOnUnexpectedKey: false }).promise;
        if (!r.canceled) { values[o.key] = o.choices[r.selectedIndex]; bad.delete(o.key); message = `${o.key} = ${formatValue(o, values[o.key])}`; }
        return;
      }
      term.moveTo(1, H() - 6).eraseDisplayBelow().bold(` ${o.title} [${allowedText(o)}]: type the value, Enter accepts, Esc cancels`);
      term.moveTo(1, H() - 4)(" > ");
      term.hideCursor(false);
      const text = await term.inputField({ default: bad.has(o.key) ? bad.get(o.key).raw : String(values[o.key]), cancelable: true }).promise;
      term.hideCursor(true);
      if (text === undefined) { message = "edit cancelled"; return; }
      try {
        values[o.key] = parseInput(o, text);
        bad.delete(o.key);
        message = `${o.key} = ${formatValue(o, values[o.key])}`;
      } catch (msg) {
        message = `not changed: ${text} ${msg}`;
      }
    }
    term.fullscreen(true);
    term.hideCursor(true);
    term.grabInput(true);
    draw();
    let confirmQuit = false;
    term.on("key", async (name) => {
      if (busy) return;
      if (confirmQuit) {
        confirmQuit = false;
        if (name === "y" || name === "Y") return done(`not saved: ${file} unchanged`);
        message = "";
        return draw();
      }
      const n = shown().length;
      if (name === "UP" || name === "k") cur = (cur + n - 1) % n;
      else if (name === "DOWN" || name === "j") cur = (cur + 1) % n;
      else if (name === "?") showHelp = !showHelp;
      else if (name === "ENTER" || name === " ") { busy = true; await edit(); busy = false; }
      else if (name === "s" || name === "S") {
        writeConfig(file, values, new Set(bad.keys()));
        done(`saved ${file}`);
        return stillWrong(file);
      }
      else if (name === "q" || name === "Q" || name === "ESCAPE" || name === "CTRL_C") {
        if (JSON.stringify(values) === saved && bad.size === badKeys(problems).size) return done(`not saved: ${file} unchanged`);
        confirmQuit = true;
        message = "quit without saving your changes? (y/n)";
      }
      draw();
    });
  });
}

async function main(argv) {
  let file = "sdkconfig", doList = false;
  const sets = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") { console.log(HELP); return 0; }
    if (a === "--list") doList = true;
    else if (a === "--config" && argv[i + 1] !== undefined) file = argv[++i];
    else if (a === "--set" && argv[i + 1] !== undefined) sets.push(argv[++i]);
    else { console.error(`menuconfig: ${a === "--config" || a === "--set" ? `${a} needs a value` : `unknown argument '${a}'`} (npm run menuconfig -- --help)`); return 2; }
  }
  try {
    if (sets.length) set(file, sets);
    if (doList) list(file);
    if (sets.length || doList) return 0;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      console.error("menuconfig: the menu needs a terminal; in scripts use --set KEY=VALUE or --list");
      return 2;
    }
    await menu(file);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) { console.error(`menuconfig: ${e.message}`); return 1; }
    // The file system refusing the write (no such directory, no permission): say which file, no stack trace.
    if (e && e.code && e.syscall) { console.error(`menuconfig: cannot ${e.syscall} ${file}: ${e.code}`); return 1; }
    throw e;
  }
}

main(process.argv.slice(2)).then((c) => process.exit(c));
