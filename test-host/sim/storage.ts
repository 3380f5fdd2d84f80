/**
 * require("Storage") as on ESP32 (src/jswrap_storage.c, src/jsflash.c):
 * - names are cut to 28 characters (so a 29-char name overwrites the 28-char one: test-host/fixtures/probes/storage);
 * - a zero-length file cannot be created; objects are written as JSON; read returns a string;
 * - a full write is NOT atomic (jsfWriteFile): the old file is marked deleted, then the new header, then
 *   the data. `cutAfter(n)` injects a power cut after n steps of the next write (1 = old file deleted,
 *   then HEADER_BYTES header bytes, then data bytes; a torn header leaves no file, torn data reads 0xFF).
 * Backed by a JSON file so a reboot (or a new simulator process) keeps it.
 */
import fs from "node:fs";

export const NAME_MAX = 28;
/** jsfFileHeader on ESP32: 4-byte size+flags and the 28-byte name. */
export const HEADER_BYTES = 32;

export class PowerCut extends Error {
  constructor() { super("power cut (simulated)"); }
}

export class SimFlash {
  files = new Map<string, Uint8Array>();
  private cut: number | undefined;
  constructor(public capacity = 917504, public file?: string) {
    if (file && fs.existsSync(file)) {
      const o = JSON.parse(fs.readFileSync(file, "utf8"));
      for (const [k, v] of Object.entries(o)) this.files.set(k, Buffer.from(v as string, "base64"));
    }
  }
  persist() {
    if (!this.file) return;
    const o: Record<string, string> = {};
    for (const [k, v] of this.files) o[k] = Buffer.from(v).toString("base64");
    fs.writeFileSync(this.file, JSON.stringify(o));
  }
  used() {
    let n = 0;
    for (const v of this.files.values()) n += v.length + HEADER_BYTES;
    return n;
  }
  /** Arms a power cut after `steps` steps of the next full write. */
  cutAfter(steps: number) {
    this.cut = steps;
  }
  /** A whole-file write with jsfWriteFile's order of operations. */
  writeFile(name: string, data: Uint8Array) {
    const old = this.files.get(name);
    if (old && Buffer.compare(old, data) === 0) return; // identical content: nothing written
    if (this.used() - (old ? old.length + HEADER_BYTES : 0) + data.length + HEADER_BYTES > this.capacity)
      throw new Error("Unable to find or create file - Storage is full");
    const cut = this.cut;
    this.cut = undefined;
    if (cut === undefined) {
      this.files.set(name, new Uint8Array(data));
      this.persist();
      return;
    }
    if (cut >= 1) this.files.delete(name);
    if (cut >= 1 + HEADER_BYTES) {
      const torn = new Uint8Array(data.length).fill(0xff);
      torn.set(data.subarray(0, Math.min(data.length, cut - 1 - HEADER_BYTES)));
      this.files.set(name, torn);
    }
    this.persist();
    if (cut < 1 + HEADER_BYTES + data.length) throw new PowerCut();
    this.files.set(name, new Uint8Array(data));
    this.persist();
  }
}

/** The module object handed to the firmware; `mk` creates values in the firmware's realm. */
export function storageModule(flash: SimFlash, mk: { u8(b: Uint8Array): Uint8Array; ab(b: Uint8Array): ArrayBuffer; json: (v: unknown) => string }) {
  const nm = (n: string) => String(n).slice(0, NAME_MAX);
  const bytes = (d: unknown): Uint8Array => {
    if (typeof d === "string") return Buffer.from(d, "latin1");
    if (d instanceof Object && "byteLength" in (d as object) && !("length" in (d as object))) return new Uint8Array(d as ArrayBuffer).slice();
    if (ArrayBuffer.isView(d)) return new Uint8Array((d as Uint8Array).buffer, (d as Uint8Array).byteOffset, (d as Uint8Array).byteLength).slice();
    if (Array.isArray(d)) return Uint8Array.from(d as number[]);
    return Buffer.from(JSON.stringify(d), "latin1");
  };
  const jsish = (v: unknown): string => mk.json(v).replace(/"([A-Za-z_$][\w$]*)":/g, "$1:");
  return {
    write(name: string, data: unknown, offset?: number, size?: number) {
      const n = nm(name), b = bytes(data);
      if (!n) return true; // accepted but never listed or readable (fixtures/probes/storage: name0 ok)
      if (offset === undefined || (offset === 0 && size === undefined)) {
        if (!b.length) throw new Error("Can't create zero length file");
        flash.writeFile(n, b);
        return true;
      }
      let f = flash.files.get(n);
      if (size !== undefined && offset === 0) {
        f = new Uint8Array(size).fill(0xff);
      }
      if (!f) throw new Error("Can't write to a file that doesn't exist at an offset");
      f = new Uint8Array(f);
      f.set(b.subarray(0, Math.max(0, f.length - offset)), offset);
      flash.files.set(n, f);
      flash.persist();
      return true;
    },
    read(name: string, offset = 0, length?: number) {
      const f = flash.files.get(nm(name));
      if (!f) return undefined;
      return Buffer.from(f.subarray(offset, length === undefined ? undefined : offset + length)).toString("latin1");
    },
    readArrayBuffer(name: string) {
      const f = flash.files.get(nm(name));
      return f ? mk.ab(f) : undefined;
    },
    readJSON(name: string, noExceptions?: boolean) {
      const f = flash.files.get(nm(name));
      if (!f) return undefined;
      const s = Buffer.from(f).toString("latin1").replace(/([{,])([A-Za-z_$][\w$]*):/g, '$1"$2":');
      try { return JSON.parse(s); } catch (e) { if (noExceptions) return undefined; throw e; }
    },
    writeJSON(name: string, v: unknown) {
      return this.write(name, jsish(v));
    },
    erase(name: string) {
      if (flash.files.delete(nm(name))) flash.persist();
    },
    eraseAll() {
      flash.files.clear();
      flash.persist();
    },
    list(re?: RegExp) {
      return [...flash.files.keys()].filter((k) => !re || re.test(k));
    },
    getFree() {
      return flash.capacity - flash.used();
    },
    compact() { /* nothing to reclaim: deleted files are not kept in this model */ },
  };
}
