/**
 * ESP-IDF style log lines: `I (683130) app_prov: STA Start` — level letter, ms since boot, tag.
 * Colours as esp_log: E red (31), W yellow (33), I green (32), D plain.
 */

export const enum Level { NONE = 0, ERROR = 1, WARN = 2, INFO = 3, DEBUG = 4 }

export interface Logger {
  e(msg: string): void;
  w(msg: string): void;
  i(msg: string): void;
  d(msg: string): void;
}

export interface LogSink {
  print(line: string): void;
  now(): number;
  level: number;
  color: boolean;
}

var LETTERS = " EWID", COLORS = [0, 31, 33, 32, 0];

export function formatLine(level: number, ms: number, tag: string, msg: string, color: boolean): string {
  var line = LETTERS[level] + " (" + Math.floor(ms) + ") " + tag + ": " + msg;
  var c = COLORS[level];
  return color && c ? "\x1b[0;" + c + "m" + line + "\x1b[0m" : line;
}

/** Logger state; the methods are shared module-level functions reading it through `this`. */
interface TaggedLogger extends Logger { s: LogSink; t: string }

function emit(lg: TaggedLogger, level: number, msg: string) {
  var sink = lg.s;
  if (level <= sink.level) sink.print(formatLine(level, sink.now(), lg.t, msg, sink.color));
}
function logE(this: TaggedLogger, msg: string) { emit(this, Level.ERROR, msg); }
function logW(this: TaggedLogger, msg: string) { emit(this, Level.WARN, msg); }
function logI(this: TaggedLogger, msg: string) { emit(this, Level.INFO, msg); }
function logD(this: TaggedLogger, msg: string) { emit(this, Level.DEBUG, msg); }

/** The methods every logger inherits. */
var METHODS = { e: logE, w: logW, i: logI, d: logD };

/**
 * A logger for one module tag (ESP-IDF `static const char *TAG`). Call its methods on it (`log.i(msg)`).
 * No closures (on Espruino each keeps a function, its code link and its scope resident, ≈ 8 JsVars), and the
 * methods come from one shared prototype: each logger (nine in the SoftAP build) holds its sink and tag only
 * (16 JsVars fewer after boot than the four methods as each logger's own properties; docs/interpreter-measurements.md §8).
 */
export function createLogger(sink: LogSink, tag: string): Logger {
  var lg: TaggedLogger = Object.create(METHODS);
  lg.s = sink;
  lg.t = tag;
  return lg;
}
