/**
 * Espruino's console.log and JSON.stringify output (src/jswrap_json.c jsfGetJSONWithCallback):
 * strings print raw at top level; non-ASCII bytes are escaped \u00XX with upper-case hex; numbers print
 * with ~12 significant digits; undefined stringifies as "null" at top level. Pinned by test-host/fixtures/probes.
 */
function num(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(12)));
}

function str(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c < 32 || c > 126) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

export function espruinoJSON(v: unknown): string {
  if (v === undefined || v === null || typeof v === "function") return "null";
  if (typeof v === "number") return Number.isFinite(v) ? num(v) : "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return str(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return "[" + Array.from(v as Uint8Array, (x) => num(x)).join(",") + "]";
  if (Array.isArray(v)) return "[" + v.map((x) => espruinoJSON(x)).join(",") + "]";
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as object)) {
    if (x === undefined || typeof x === "function") continue;
    parts.push(str(k) + ":" + espruinoJSON(x));
  }
  return "{" + parts.join(",") + "}";
}

/** console.log: strings raw, everything else as Espruino prints it. */
export function espruinoLog(args: unknown[]): string {
  return args.map((a) => (typeof a === "string" ? a : a === undefined ? "undefined" : espruinoJSON(a))).join(" ");
}
