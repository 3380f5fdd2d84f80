#!/usr/bin/env node
// Espruino-subset check: fails with file:line:col and a reason for what Espruino 2v29 cannot run.
// Each rule cites where the behaviour is documented (docs/espruino-esp32.md, docs/interpreter-measurements.md).
//   node tools/subset-check.mjs dist/firmware.js
import fs from "node:fs";
import * as acorn from "acorn";

const REF_ESP = "docs/espruino-esp32.md §6";
const REF_MEAS = "docs/interpreter-measurements.md §5";

const HELPERS = new Set(["__extends", "__spreadArray", "__spread", "__generator", "__awaiter", "__read", "__values", "__rest", "__asyncValues"]);
const MISSING_GLOBALS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "TextEncoder", "TextDecoder", "RangeError", "URIError", "EvalError", "BigInt"]);
const MISSING_MEMBERS = {
  Math: ["imul", "clz32", "trunc", "fround", "log2", "log10", "hypot", "sign_"],
  Array: ["from", "of"],
  Object: ["freeze", "seal", "isFrozen"],
  Number: ["isInteger", "isNaN", "isFinite", "parseInt", "parseFloat", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER", "EPSILON"],
  Promise: ["race", "allSettled", "any"],
  ArrayBuffer: ["isView"],
  Uint8Array: ["from", "of"],
  String: ["fromCodePoint", "raw"],
};
const PROTO_OWNERS = new Set(["Array", "Object", "Function", "String", "Promise", "Number", "Uint8Array", "ArrayBuffer"]);

/** Checks JS source; returns [{line, col, rule, message}]. */
export function check(code) {
  const out = [];
  const add = (node, rule, message) => out.push({ line: node.loc.start.line, col: node.loc.start.column + 1, rule, message });
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 5, locations: true });
  } catch (e) {
    return [{ line: e.loc?.line ?? 0, col: (e.loc?.column ?? 0) + 1, rule: "es5-syntax",
      message: `not ES5 (${e.message.replace(/ \(\d+:\d+\)$/, "")}); Espruino lacks destructuring, spread, default/rest parameters, ** and more (${REF_MEAS})` }];
  }

  // ---- node-local rules ----
  (function visit(node, parent) {
    if (!node || typeof node.type !== "string") return;
    switch (node.type) {
      case "LabeledStatement":
        add(node, "label", `labelled statement '${node.label.name}': labels are not supported ("outer" is not defined) (${REF_MEAS})`);
        break;
      case "Identifier":
        if (parent && isReference(node, parent)) {
          if (HELPERS.has(node.name)) add(node, "ts-helper", `TypeScript helper ${node.name} breaks in Espruino (no hoisting / Array.prototype look-ups) (${REF_ESP})`);
          if (MISSING_GLOBALS.has(node.name)) add(node, "missing-global", `${node.name} does not exist in Espruino (${REF_ESP})`);
        }
        break;
      case "MemberExpression":
        if (!node.computed && node.object.type === "Identifier") {
          const o = node.object.name, p = node.property.name;
          if (MISSING_MEMBERS[o]?.includes(p)) add(node, "missing-member", `${o}.${p} does not exist in Espruino (${REF_ESP})`);
          if (p === "prototype" && PROTO_OWNERS.has(o) && parent?.type === "MemberExpression" && parent.object === node)
            add(node, "prototype-lookup", `${o}.prototype.${parent.property.name || "[…]"} evaluates to undefined in Espruino; use an instance ([].slice.call) (${REF_MEAS})`);
        }
        break;
      case "Literal":
        if (node.regex) {
          const { pattern, flags } = node.regex;
          const bad = [[/(^|[^\\])\{\d+(,\d*)?\}/, "{n} quantifiers"], [/\(\?[:=!]/, "(?:), lookahead"], [/\\b/, "\\b"], [/\\u[0-9a-fA-F]{4}/, "\\uXXXX"], [/\\[1-9]/, "back-references"]];
          for (const [re, what] of bad) if (re.test(pattern)) add(node, "regex", `regular expression /${pattern}/ uses ${what}, unsupported by Espruino's RegExp (${REF_MEAS})`);
          if (flags.includes("m")) add(node, "regex", `regular expression flag m is unsupported (${REF_MEAS})`);
        }
        break;
    }
    for (const k of Object.keys(node)) {
      if (k === "loc" || k === "start" || k === "end") continue;
      const v = node[k];
      if (Array.isArray(v)) v.forEach((c) => visit(c, node));
      else if (v && typeof v.type === "string") visit(v, node);
    }
  })(ast, null);

  // ---- no hoisting: a name declared in a scope must not be used (executed) before its declaration ----
  checkScope(ast.body, add);
  return out;
}

function isReference(node, parent) {
  if (parent.type === "MemberExpression" && parent.property === node && !parent.computed) return false;
  if (parent.type === "Property" && parent.key === node && !parent.computed) return false;
  if ((parent.type === "FunctionDeclaration" || parent.type === "FunctionExpression") && parent.id === node) return false;
  if (parent.type === "VariableDeclarator" && parent.id === node) return false;
  if ((parent.type === "FunctionDeclaration" || parent.type === "FunctionExpression") && parent.params.includes(node)) return false;
  if (parent.type === "CatchClause" && parent.param === node) return false;
  if (parent.type === "LabeledStatement" || parent.type === "BreakStatement" || parent.type === "ContinueStatement") return false;
  return true;
}

function isFn(n) {
  return n && (n.type === "FunctionExpression" || n.type === "FunctionDeclaration");
}

/** Names declared by var/function directly in this scope (var in nested blocks too, not in nested functions). */
function declaredIn(body) {
  const names = new Map();
  (function walk(n) {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "FunctionDeclaration") { names.set(n.id.name, n); return; }
    if (n.type === "FunctionExpression") return;
    if (n.type === "VariableDeclarator") names.set(n.id.name, n);
    for (const k of Object.keys(n)) {
      if (k === "loc") continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v.type === "string") walk(v);
    }
  })({ type: "BlockStatement", body });
  return names;
}

function checkScope(body, add) {
  const names = declaredIn(body);
  const done = new Set();
  const fnRefsMemo = new Map();
  // Free references of a function declared in this scope, followed through direct calls of its siblings.
  const fnRefs = (fnNode, stack = new Set()) => {
    if (fnRefsMemo.has(fnNode)) return fnRefsMemo.get(fnNode);
    if (stack.has(fnNode)) return [];
    stack.add(fnNode);
    const own = new Set();
    const shadow = new Set([...fnNode.params.map((p) => p.name), ...declaredIn(fnNode.body.body).keys()]);
    (function walk(n) {
      if (!n || typeof n.type !== "string") return;
      if (isFn(n) && n !== fnNode) return; // nested functions run later
      for (const k of Object.keys(n)) {
        if (k === "loc") continue;
        const v = n[k];
        const f = (c) => {
          if (c && c.type === "Identifier") { if (isReference(c, n) && !shadow.has(c.name)) own.add(c); }
          else walk(c);
        };
        if (Array.isArray(v)) v.forEach(f);
        else if (v && typeof v.type === "string") f(v);
      }
    })(fnNode.body);
    const all = [...own];
    for (const id of own) {
      const target = names.get(id.name);
      if (target && target.type === "FunctionDeclaration") all.push(...fnRefs(target, stack));
    }
    fnRefsMemo.set(fnNode, all);
    return all;
  };
  const shadowed = []; // names an IIFE being walked declares itself (they are not this scope's)
  const use = (id) => {
    if (!names.has(id.name) || shadowed.some((set) => set.has(id.name))) return;
    if (!done.has(id.name)) {
      add(id, "no-hoisting", `'${id.name}' is used before its declaration; Espruino does not hoist functions or var ("${id.name}" is not defined) (${REF_MEAS})`);
      return;
    }
    const decl = names.get(id.name);
    if (decl.type !== "FunctionDeclaration") return;
    for (const inner of fnRefs(decl)) {
      if (names.has(inner.name) && !done.has(inner.name))
        add(id, "no-hoisting", `calling '${id.name}' here uses '${inner.name}' (line ${inner.loc.start.line}) before its declaration; Espruino does not hoist (${REF_MEAS})`);
    }
  };
  // Walk the scope in evaluation order: a var is declared once its declarator has run, a function
  // declaration once the statement is reached (Espruino defines both as it executes them).
  (function run(n, parent) {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "Identifier") { if (parent && isReference(n, parent)) use(n); return; }
    if (n.type === "FunctionDeclaration") { done.add(n.id.name); return; }
    if (n.type === "FunctionExpression") return;
    if (n.type === "CallExpression" && isFn(n.callee)) {
      n.arguments.forEach((a) => run(a, n));
      shadowed.push(new Set([...n.callee.params.map((p) => p.name), ...declaredIn(n.callee.body.body).keys()]));
      n.callee.body.body.forEach((st) => run(st, n.callee.body)); // an IIFE runs now
      shadowed.pop();
      return;
    }
    if (n.type === "VariableDeclarator") { run(n.init, n); done.add(n.id.name); return; }
    const keys = n.type === "ForStatement" ? ["init", "test", "body", "update"] : Object.keys(n);
    for (const k of keys) {
      if (k === "loc") continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach((c) => run(c, n));
      else if (v && typeof v.type === "string") run(v, n);
    }
  })({ type: "BlockStatement", body }, null);
  // Every function body is its own scope with the same rule.
  (function each(n) {
    if (!n || typeof n.type !== "string") return;
    if (isFn(n)) { checkScope(n.body.body, add); return; }
    for (const k of Object.keys(n)) {
      if (k === "loc") continue;
      const v = n[k];
      if (Array.isArray(v)) v.forEach(each);
      else if (v && typeof v.type === "string") each(v);
    }
  })({ type: "BlockStatement", body });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node tools/subset-check.mjs FILE.js");
    process.exit(2);
  }
  const v = check(fs.readFileSync(file, "utf8"));
  for (const x of v) console.error(`${file}:${x.line}:${x.col}: [${x.rule}] ${x.message}`);
  if (v.length) process.exit(1);
  console.log(`${file}: Espruino subset OK`);
}
