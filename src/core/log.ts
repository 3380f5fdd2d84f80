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

/** A logger for one module tag (ESP-IDF `static const char *TAG`). */
export function createLogger(sink: LogSink, tag: string): Logger {
  function at(level: number) {
    return function (msg: string) {
      if (level <= sink.level) sink.print(formatLine(level, sink.now(), tag, msg, sink.color));
    };
  }
  return { e: at(Level.ERROR), w: at(Level.WARN), i: at(Level.INFO), d: at(Level.DEBUG) };
}
