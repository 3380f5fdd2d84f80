// Frees, once boot is over, the bundle's functions that only boot calls.
//
// Why: the bundle is one function scope that the firmware's handlers keep alive, so every top-level function
// declared in it stays in RAM for good, about 6 JsVars each (function, scope link, code reference, parameter
// names; measured in the Linux interpreter: 5 functions freed = 30 JsVars). The factories that wire the firmware
// up at boot never run again. terser already inlines most of them into the boot code; the build runs this on
// terser's output and appends `a=b=…=void 0` to the bundle's function, after its boot code, for the rest, so
// Espruino frees them (4 functions, 24 JsVars after boot in the SoftAP build, for 15 bytes).
//
// Which functions are boot-only is decided from the code, not from a list: a top-level function qualifies when
// every reference to it is a direct call (never a value that could be kept and called later) made either by the
// bundle's top-level code or from the body of another boot-only function, outside any nested function (a nested
// function may run later, from a timer or an event). The greatest such set is found by removing offenders until
// none is left. An identifier that names a local of an enclosing function is not a reference to the top-level one.
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** The body of the bundle's one function: rollup's `(function () { … })();` or terser's `!function(){…}();`. */
function iifeBody(ast) {
  let s = ast.body.length === 1 && ast.body[0].type === "ExpressionStatement" ? ast.body[0].expression : undefined;
  if (s && s.type === "UnaryExpression" && s.operator === "!") s = s.argument; // terser's !function(){…}()
  const fn = s && s.type === "CallExpression" ? s.callee : undefined;
  if (!fn || fn.type !== "FunctionExpression") throw new Error("boot-only: the bundle is not one (function () { … })() call");
  return fn.body;
}

/** Names a function declares in its own scope: its parameters, its vars, its inner function declarations and,
 * for a named function expression, its own name. */
const scopes = new WeakMap();
function declared(fn) {
  let names = scopes.get(fn);
  if (names) return names;
  names = new Set(fn.params.map((p) => p.name));
  if (fn.type === "FunctionExpression" && fn.id) names.add(fn.id.name);
  const visit = (n) => {
    if (!n || typeof n.type !== "string") return;
    if (n.type === "FunctionDeclaration") { names.add(n.id.name); return; }
    if (n.type === "FunctionExpression") return;
    if (n.type === "VariableDeclarator") names.add(n.id.name);
    for (const k of Object.keys(n)) {
      const v = n[k];
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v.type === "string") visit(v);
    }
  };
  visit(fn.body);
  scopes.set(fn, names);
  return names;
}

/**
 * The bundle with `a=b=…=void 0` as the last statement of its function (unchanged when nothing is boot-only),
 * and the names of its boot-only functions (see above), in declaration order.
 */
export function freeBootOnly(code) {
  const body = iifeBody(acorn.parse(code, { ecmaVersion: 5 }));
  const top = new Map(); // name → its FunctionDeclaration
  for (const s of body.body) if (s.type === "FunctionDeclaration") top.set(s.id.name, s);
  // Every reference to a top-level function: whether it is a call, and the top-level function whose own body
  // (not a nested function) holds it; null for the bundle's top-level code, "nested" inside a nested function.
  const refs = new Map([...top.keys()].map((k) => [k, []]));
  walk.ancestor(body, {
    Identifier(n, _state, anc) {
      if (!refs.has(n.name)) return;
      const parent = anc[anc.length - 2];
      if (parent.type === "FunctionDeclaration" && parent.id === n) return; // the declaration itself
      if (parent.type === "MemberExpression" && parent.property === n && !parent.computed) return; // x.name
      if (parent.type === "Property" && parent.key === n && !parent.computed && parent.value !== n) return; // { name: … }
      // A local of the same name in an enclosing function (or catch clause) is what this identifier means.
      for (let i = anc.length - 2; i >= 0; i--) {
        const a = anc[i];
        if ((a.type === "FunctionDeclaration" || a.type === "FunctionExpression") && declared(a).has(n.name)) return;
        if (a.type === "CatchClause" && a.param.name === n.name) return;
      }
      let holder = null;
      for (let i = anc.length - 2; i >= 0; i--) {
        const a = anc[i];
        // A function expression called where it stands (terser turns start() into one) runs as part of its holder.
        if (a.type === "FunctionExpression" && anc[i - 1].type === "CallExpression" && anc[i - 1].callee === a) continue;
        if (a.type === "FunctionDeclaration" || a.type === "FunctionExpression") {
          holder = a.type === "FunctionDeclaration" && top.get(a.id.name) === a ? a.id.name : "nested";
          break;
        }
      }
      refs.get(n.name).push({ call: parent.type === "CallExpression" && parent.callee === n, holder });
    },
  }, undefined);
  const free = new Set([...top.keys()].filter((k) => refs.get(k).length > 0));
  for (let changed = true; changed;) {
    changed = false;
    for (const k of free) {
      const ok = refs.get(k).every((r) => r.call && (r.holder === null || (r.holder !== "nested" && free.has(r.holder))));
      if (!ok) { free.delete(k); changed = true; }
    }
  }
  const names = [...top.keys()].filter((k) => free.has(k));
  if (!names.length) return { code, names };
  const at = body.end - 1; // the closing brace of the IIFE
  const last = code.slice(0, at).trimEnd().slice(-1);
  const line = (last === ";" || last === "{" ? "" : ";") + names.join("=") + "=void 0";
  return { code: code.slice(0, at) + line + code.slice(at), names };
}
