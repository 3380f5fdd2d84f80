// Reads and validates the sdkconfig-style configuration against config/schema.json.
// Every error names the file, the line, the option, the value and what is allowed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const schema = JSON.parse(fs.readFileSync(path.join(root, "config/schema.json"), "utf8"));

export class ConfigError extends Error {}

/** What option o allows, in words (a string's pattern as the schema's patternHelp, never the regex). */
function allowed(o) {
  if (o.type === "choice") return "one of " + o.choices.join(", ");
  if (o.type === "bool") return "y or n";
  if (o.type === "int") return `an integer from ${o.min} to ${o.max}`;
  return o.patternHelp || `at most ${o.maxLength} characters`;
}

/** The option key closest to a mistyped one, for "did you mean". */
export function nearestKey(key) {
  return schema.options.map((x) => x.key).sort((a, b) => distance(a, key) - distance(b, key))[0];
}

/** Edit distance. */
function distance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** Parses one raw value for option o; throws a message (without location) when it is not allowed. */
export function parseValue(o, raw) {
  if (o.type === "bool") {
    if (raw === "y") return true;
    if (raw === "n") return false;
    throw `is not ${allowed(o)}`;
  }
  if (o.type === "int") {
    if (!/^-?\d+$/.test(raw)) throw `is not ${allowed(o)}`;
    const v = Number(raw);
    if (v < o.min || v > o.max) throw `is out of range: must be ${allowed(o)}`;
    return v;
  }
  if (o.type === "choice" && /^\d+$/.test(raw)) {
    // Numeric choices are written bare, as sdkconfig does (CONFIG_PROV_SECURITY_VERSION=1).
    if (!o.choices.includes(raw)) throw `is not ${allowed(o)}`;
    return raw;
  }
  // Only a file's value can lack its quotes: what a person types is quoted for them (parseInput).
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(raw);
  if (!m) throw `must be in double quotes, e.g. "${o.default}"`;
  const v = m[1].replace(/\\(.)/g, "$1");
  if (o.type === "choice") {
    if (!o.choices.includes(v)) throw `is not ${allowed(o)}`;
    return v;
  }
  if (v.length > o.maxLength) throw `is ${v.length} characters long: must be ${allowed(o)}`;
  if (o.pattern && !new RegExp(o.pattern).test(v)) throw `must be ${allowed(o)}`;
  return v;
}

/** Serialises a value back to sdkconfig syntax. */
export function formatValue(o, v) {
  if (o.type === "bool") return v ? "y" : "n";
  if (o.type === "int" || (o.type === "choice" && /^\d+$/.test(v))) return String(v);
  return JSON.stringify(String(v));
}

export function defaults() {
  const out = {};
  for (const o of schema.options) out[o.key] = o.type === "choice" && typeof o.default !== "string" ? String(o.default) : o.default;
  return out;
}

/**
 * Reads a config file and every problem in it instead of stopping at the first (the menu and --set show and
 * repair them): values holds each good line, the default where a line is bad or missing; a problem is
 * { message: "file:line: what", line, what, and for a bad value of a known option its key and raw text }.
 * (A repeated option is a problem without a key: saving keeps its first line and drops the others.)
 * Throws ConfigError only when the file cannot be read.
 */
export function readConfigProblems(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the configuration (${e.code || e.message})`);
  }
  const values = defaults(), seen = new Set(), problems = [], name = path.relative(process.cwd(), file) || file;
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    const problem = (what, key, raw) => problems.push({ message: `${name}:${i + 1}: ${what}`, line: i + 1, what, key, raw });
    if (!t || t.startsWith("#")) return;
    const m = /^CONFIG_([A-Z0-9_]+)=(.*)$/.exec(t);
    if (!m) return problem(`"${t}" is not CONFIG_KEY=value`);
    const o = schema.options.find((x) => x.key === m[1]);
    if (!o) return problem(`unknown option CONFIG_${m[1]} (did you mean CONFIG_${nearestKey(m[1])}?)`);
    if (seen.has(o.key)) return problem(`CONFIG_${o.key} is set twice`);
    seen.add(o.key);
    try {
      values[o.key] = parseValue(o, m[2].trim());
    } catch (msg) {
      problem(`CONFIG_${o.key}=${m[2].trim()} ${msg}`, o.key, m[2].trim());
    }
  });
  return { values, problems };
}

/** Reads a config file; missing options take their defaults. Throws ConfigError naming the first problem. */
export function readConfig(file) {
  const { values, problems } = readConfigProblems(file);
  if (problems.length) throw new ConfigError(problems[0].message);
  return values;
}

/** Is option o relevant given the other values (dependsOn "KEY=v" or "KEY!=v")? */
export function visible(o, values) {
  if (!o.dependsOn) return true;
  const m = /^([A-Z0-9_]+)(!?=)(.*)$/.exec(o.dependsOn);
  const cur = String(values[m[1]]);
  return m[2] === "=" ? cur === m[3] : cur !== m[3];
}

/**
 * Writes values into a config file, keeping its comments, blank lines and order: known CONFIG_ lines get
 * the new value (a repeated one is dropped), options the file lacks are appended with their help as a
 * comment. The lines of the options in `keep` (bad values nobody fixed) stay as they were.
 */
export function writeConfig(file, values, keep = new Set()) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `# ${schema.title}\n# Edit with npm run menuconfig; options, ranges and help: config/schema.json.\n`;
  const done = new Set();
  const lines = text.replace(/\n$/, "").split("\n").flatMap((line) => {
    const m = /^(\s*)CONFIG_([A-Z0-9_]+)=(.*)$/.exec(line);
    const o = m && schema.options.find((x) => x.key === m[2]);
    if (!o) return [line];
    if (keep.has(o.key)) { done.add(o.key); return [line]; }
    if (done.has(o.key)) return [];
    done.add(o.key);
    return [`${m[1]}CONFIG_${o.key}=${formatValue(o, values[o.key])}`];
  });
  for (const o of schema.options) {
    if (!done.has(o.key)) lines.push(`# ${o.title || o.key}: ${o.help}`, `CONFIG_${o.key}=${formatValue(o, values[o.key])}`);
  }
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** Parses what a person types for option o (strings may omit their quotes); throws a message. */
export function parseInput(o, text) {
  const t = text.trim();
  if (o.type === "string" && !/^".*"$/.test(t)) return parseValue(o, JSON.stringify(text));
  if (o.type === "choice" && !/^\d+$/.test(t) && !/^".*"$/.test(t)) return parseValue(o, JSON.stringify(t));
  return parseValue(o, t);
}
