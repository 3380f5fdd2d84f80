/**
 * A small table-driven proto3 codec. `tools/gen-proto.mjs` turns proto/*.proto into descriptor tables
 * (text in schema.gen.ts, schemaGroup); this file encodes and decodes any message from its table. Shape follows protobufjs'
 * generated static code (switch on field number, skipType for unknown fields, RangeError-like errors
 * with the offset), without shipping its runtime to the device.
 *
 * proto3 rules kept: scalar defaults are not written; a present sub-message is written even when empty
 * (tag + length 0); a oneof member is written even when it holds the default; unknown fields are skipped;
 * field number 0, groups, a wrong wire type, a varint over 10 bytes, a length past the end and nesting
 * deeper than MAX_DEPTH are errors.
 */

import { SCHEMA_GROUP, schemaGroup } from "./schema.gen";

/** Field type codes (low 4 bits of a field's flags). */
export const enum T { UINT = 1, INT32 = 2, BOOL = 3, BYTES = 4, STRING = 5, MSG = 6 }
/** Field flag bits. */
export const enum F { TYPE = 15, REPEATED = 16 }
/** [field number, name, type|flags, sub-message descriptor, oneof name] */
export type Field = [number, string, number, Desc, string?];
/**
 * A message descriptor: a generated message's number (schema.gen.ts D_*), or a function returning a field
 * table. Tables are built per encode/decode from text that stays in flash: resident tables of arrays kept
 * ≈ 430 JsVars of RAM on Espruino for the whole schema, a function per message ≈ 146 (tools/gen-proto.mjs).
 */
export type Desc = number | (() => Field[]);

/** The field table of descriptor d: for a generated message, parsed from its record (tools/gen-proto.mjs). */
export function fields(d: Desc): Field[] {
  if (typeof d == "function") return d();
  var t = schemaGroup(d), s = 0, e, out: Field[] = [], i;
  for (i = 0; i < d % SCHEMA_GROUP; i++) s = t.indexOf("|", s) + 1;
  e = t.indexOf("|", s);
  var recs = t.substring(s, e < 0 ? t.length : e).split(",");
  for (i = 0; i < recs.length; i++) {
    var r = recs[i]!.split(" ");
    if (r.length > 2) out.push([+r[0]!, r[2]!, +r[1]!, +(r[3] || 0), r[4]]);
  }
  return out;
}

/** Codec error: `code` names the class of malformation, `pos` the byte offset where it was found. */
export interface ProtoError extends Error { code: string; pos: number }

export const MAX_DEPTH = 8;

function fail(code: string, pos: number, what: string): never {
  var e = new Error("protobuf: " + what + " at offset " + pos) as ProtoError;
  e.code = code;
  e.pos = pos;
  throw e;
}

// ---- writer ----

interface Out { b: Uint8Array; n: number }

function room(o: Out, k: number) {
  if (o.n + k <= o.b.length) return;
  var nb = new Uint8Array((o.n + k) * 2);
  nb.set(o.b);
  o.b = nb;
}

function putVarint(o: Out, v: number) {
  room(o, 10);
  var i;
  if (v < 0) {
    // int32 < 0 is sign-extended to 64 bits: always 10 bytes on the wire.
    var lo = v >>> 0;
    for (i = 0; i < 4; i++) { o.b[o.n++] = (lo & 127) | 128; lo >>>= 7; }
    o.b[o.n++] = (lo & 15) | 0xf0;
    for (i = 0; i < 4; i++) o.b[o.n++] = 0xff;
    o.b[o.n++] = 1;
    return;
  }
  v = v >>> 0;
  while (v > 127) { o.b[o.n++] = (v & 127) | 128; v >>>= 7; }
  o.b[o.n++] = v;
}

function putBytes(o: Out, b: Uint8Array) {
  putVarint(o, b.length);
  room(o, b.length);
  o.b.set(b, o.n);
  o.n += b.length;
}

function isDefault(t: number, v: any): boolean {
  if (t === T.BYTES || t === T.STRING) return v.length === 0;
  if (t === T.MSG) return false;
  return !v;
}

function putField(o: Out, f: Field, v: any) {
  var t = f[2] & F.TYPE, no = f[0];
  if (t === T.BYTES || t === T.STRING || t === T.MSG) {
    putVarint(o, (no << 3) | 2);
    if (t === T.MSG) putBytes(o, encode(f[3], v));
    else if (t === T.STRING) putBytes(o, strBytes(v));
    else putBytes(o, v);
  } else {
    putVarint(o, no << 3);
    putVarint(o, t === T.BOOL ? (v ? 1 : 0) : v);
  }
}

/** UTF-16 → UTF-8 would differ between Node and Espruino (8-bit strings); strings here are ASCII/8-bit. */
function strBytes(s: string): Uint8Array {
  var b = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}

/** Encodes `m` (a plain object keyed by proto field names) with descriptor `d`. */
export function encode(desc: Desc, m: any): Uint8Array {
  var o: Out = { b: new Uint8Array(32), n: 0 }, d = fields(desc);
  for (var i = 0; i < d.length; i++) {
    var f = d[i]!, v = m[f[1]];
    if (v === undefined || v === null) continue;
    if (f[2] & F.REPEATED) {
      for (var j = 0; j < v.length; j++) putField(o, f, v[j]);
    } else if (f[4] !== undefined || !isDefault(f[2] & F.TYPE, v)) {
      putField(o, f, v);
    }
  }
  return o.b.subarray(0, o.n);
}

// ---- reader ----

interface In { b: Uint8Array; p: number }

function getVarint(r: In, end: number): number {
  var start = r.p, v = 0, shift = 0, byte;
  do {
    if (r.p >= end) fail("truncated", start, "truncated varint");
    if (r.p - start >= 10) fail("varint", start, "varint longer than 10 bytes");
    byte = r.b[r.p++]!;
    // Only the low 32 bits matter for the int32/uint32/enum/bool fields used here.
    if (shift < 32) v |= (byte & 127) << shift;
    shift += 7;
  } while (byte & 128);
  return v;
}

function getLen(r: In, end: number): number {
  var at = r.p, n = getVarint(r, end) >>> 0;
  if (n > end - r.p) fail("length", at, "length " + n + " past the end");
  return n;
}

function skip(r: In, wt: number, end: number) {
  var at = r.p;
  if (wt === 0) getVarint(r, end);
  else if (wt === 2) {
    var n = getLen(r, end);
    r.p += n;
  }
  else if (wt === 1 || wt === 5) {
    r.p += wt === 1 ? 8 : 4;
    if (r.p > end) fail("truncated", at, "truncated fixed-width field");
  } else fail("wire-type", at, "unsupported wire type " + wt);
}

function read(desc: Desc, r: In, end: number, depth: number): any {
  if (depth > MAX_DEPTH) fail("depth", r.p, "nesting deeper than " + MAX_DEPTH);
  var m: any = {}, d = fields(desc);
  while (r.p < end) {
    var at = r.p, tag = getVarint(r, end) >>> 0, no = tag >>> 3, wt = tag & 7;
    if (no === 0) fail("field-zero", at, "field number 0");
    var f: Field | undefined = undefined;
    for (var i = 0; i < d.length; i++) if (d[i]![0] === no) { f = d[i]; break; }
    if (!f) { skip(r, wt, end); continue; }
    var t = f[2] & F.TYPE, v: any;
    if ((t >= T.BYTES ? 2 : 0) !== wt) fail("wire-type", at, "wire type " + wt + " for field " + no);
    if (t >= T.BYTES) {
      var n = getLen(r, end), s = r.p;
      r.p += n;
      if (t === T.MSG) v = read(f[3], { b: r.b, p: s }, s + n, depth + 1);
      else if (t === T.BYTES) v = r.b.slice(s, s + n);
      else { v = ""; for (var k = s; k < s + n; k++) v += String.fromCharCode(r.b[k]!); }
    } else {
      v = getVarint(r, end);
      v = t === T.BOOL ? v !== 0 : t === T.INT32 ? v | 0 : v >>> 0;
    }
    if (f[2] & F.REPEATED) (m[f[1]] || (m[f[1]] = [])).push(v);
    else {
      var one = f[4];
      if (one !== undefined) {
        // Setting a oneof member clears the member set before it (proto3 oneof semantics).
        if (m[one] !== undefined && m[one] !== f[1]) delete m[m[one]];
        m[one] = f[1];
      }
      m[f[1]] = v;
    }
  }
  return m;
}

/** Decodes bytes with descriptor `d`; throws a ProtoError on malformed input. */
export function decode(d: Desc, b: Uint8Array): any {
  return read(d, { b: b, p: 0 }, b.length, 0);
}
