/**
 * The work the simulated interpreter does, counted as the code runs (the simulator's deterministic clock).
 *
 * Espruino has no bytecode: it lexes and executes the source text token by token (src/jsparse.c, src/jslex.c), and
 * code it does not run is still lexed while it is skipped (an untaken branch, the rest of a function after
 * `return`, a function expression's body when the expression is evaluated, the last pass over a loop's body). So the
 * model counts tokens, in three counters kept by a copy of every script instrumented here (acorn):
 * - `l` tokens lexed: a whole script once when it is evaluated, a function's whole body at every call, a loop's
 *   test, update and body at every iteration;
 * - `x` tokens executed: each statement that runs adds its own tokens (those not in a nested block, which count
 *   when they run; of `?:`, `&&` and `||` only the branch taken, as the other is parsed with execution off);
 * - `c` calls of JS functions (a scope, the arguments bound);
 * - `S` (`T` from Storage) characters of string literals lexed (a string is lexed character by character);
 * - `i` loop iterations (the interpreter's loop bookkeeping: src/jsparse.c jspeStatementFor and friends);
 * - `f` functions defined (a declaration reached, a function expression evaluated: a function variable, its scope);
 * - `L`, `X` and `T`: `l`, `x` and `S` of code the interpreter reads from Storage (the bundle in .boot0, what eval runs from a
 *   Storage file). On the ESP32 flash is memory-mapped and reads as RAM does; Espruino's Linux build, which the costs
 *   are measured in, reads it through fread (targets/linux/jshardware.c), several times slower: the bench prices them
 *   apart to predict its Linux runs, the board prices them as RAM code.
 * The simulator adds the native built-ins' own cost (`n`, in interpreter instructions, test-host/sim/cost-table.ts).
 * The instrumented copy does what the original does: only counter statements are added, before statements and at
 * the start of blocks, a conditional branch `b` becomes `(counter, b)` (the same value), and a single-statement
 * body is braced.
 */
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** The counters, one object per simulated interpreter (a `const` of the context: fast to reach from its code). */
export interface Counters { l: number; x: number; c: number; f: number; i: number; S: number; n: number; L: number; X: number; T: number }
export const COUNTERS = "__k";
/** A global the counters assign outside functions (defined non-enumerable in the context). */
export const COMPLETION = "__kv";

type N = acorn.Node & Record<string, any>;

/**
 * Token start offsets of src, sorted (acorn's tokenizer, so regexps and templates are single tokens), and the
 * characters of string literals before each token (a string is lexed character by character: src/jslex.c jslLexString).
 */
function tokenStarts(src: string): { starts: number[]; chars: number[] } {
  const starts: number[] = [], chars = [0];
  for (const t of acorn.tokenizer(src, { ecmaVersion: "latest", allowHashBang: true })) {
    starts.push(t.start);
    chars.push(chars[chars.length - 1]! + (t.type === acorn.tokTypes.string || t.type === acorn.tokTypes.template ? t.end - t.start : 0));
  }
  return { starts, chars };
}

/** Statements whose bodies are blocks this module counts on their own (they are not part of the statement's cost). */
const COMPOUND = new Set(["IfStatement", "ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement", "TryStatement", "BlockStatement", "SwitchStatement", "LabeledStatement"]);

/**
 * The instrumented copy of a script, or the script itself when it does not parse (running it then throws the
 * same SyntaxError the original would).
 */
export function instrument(src: string, o: { lexScript?: boolean; flash?: boolean } = {}): string {
  const lexScript = o.lexScript ?? true, L = o.flash ? "L" : "l", X = o.flash ? "X" : "x", S = o.flash ? "T" : "S";
  let ast: N;
  let starts: number[], chars: number[];
  try {
    ast = acorn.parse(src, { ecmaVersion: "latest", allowHashBang: true, allowReturnOutsideFunction: false }) as N;
    ({ starts, chars } = tokenStarts(src));
  } catch {
    return src;
  }
  // Tokens starting in [a, b): two binary searches.
  const lower = (p: number) => { let lo = 0, hi = starts.length; while (lo < hi) { const m = (lo + hi) >> 1; if (starts[m]! < p) lo = m + 1; else hi = m; } return lo; };
  const tokens = (n: { start: number; end: number } | null | undefined) => (n ? lower(n.end) - lower(n.start) : 0);
  const strChars = (n: { start: number; end: number } | null | undefined) => (n ? chars[lower(n.end)]! - chars[lower(n.start)]! : 0);
  /** Lexing these ranges: their tokens, and their string literals' characters. */
  const lexed = (...ns: ({ start: number; end: number } | null | undefined)[]) => {
    let t = 0, c = 0;
    for (const n of ns) { t += tokens(n); c += strChars(n); }
    return `${L}+=${t}` + (c ? `,${COUNTERS}.${S}+=${c}` : "");
  };
  const ins: { at: number; text: string }[] = [];
  const put = (at: number, text: string) => ins.push({ at, text });
  // Outside functions a counter must not change the script's completion value (what the REPL prints, what eval
  // returns): there it is a var statement (empty completion) of a name the context already has.
  let inFn = 0;
  const count = (what: string) => (inFn ? `${COUNTERS}.${what};` : `var ${COMPLETION}=(${COUNTERS}.${what});`);

  /** A statement's own executed tokens: all of it but its nested statement blocks (counted when they run). */
  const own = (s: N): number => {
    if (!COMPOUND.has(s.type)) return tokens(s);
    let t = tokens(s);
    const sub = (b: N | null | undefined) => { if (b) t -= tokens(b); };
    switch (s.type) {
      case "BlockStatement": return 0;
      case "IfStatement": sub(s.consequent); sub(s.alternate); break;
      case "ForStatement": case "ForInStatement": case "ForOfStatement": case "WhileStatement": case "DoWhileStatement": sub(s.body); break;
      case "TryStatement": sub(s.block); sub(s.handler?.body); sub(s.finalizer); break;
      case "SwitchStatement": for (const c of s.cases) for (const q of c.consequent) sub(q); break;
      case "LabeledStatement": sub(s.body); break;
    }
    return t;
  };
  /** The functions a statement's own expressions define when it runs: their number and body tokens (lexed, not run). */
  const bodies = (s: N): { n: number; t: number; b: N[] } => {
    let t = 0, n = 0;
    const b: N[] = [];
    const sum = (e: N | null | undefined) => {
      if (e) walk.recursive(e, undefined, { Function: (f: N) => { t += tokens(f.body); n++; b.push(f.body); } } as walk.RecursiveVisitors<unknown>);
    };
    if (s.type === "FunctionDeclaration") return { n: 1, t: tokens(s.body), b: [s.body] };
    if (!COMPOUND.has(s.type)) sum(s);
    else for (const k of ["test", "init", "update", "left", "right", "discriminant"]) sum(s[k]);
    if (s.type === "SwitchStatement") for (const c of s.cases) sum(c.test);
    return { n, t, b };
  };
  /**
   * The branches of conditional expressions (`?:`, `&&`, `||`) in e, outside functions: the interpreter executes
   * only the branch it takes and parses the other with execution off (src/jsparse.c __jspeConditionalExpression,
   * __jspeBinaryExpression for && and ||: jspSetNoExecute around the untaken operand). Each branch counts its own
   * executed tokens when it is taken, `(counter, branch)`; returns the tokens (function bodies aside) it took off
   * the enclosing count.
   */
  const branches = (e: N | null | undefined): number => {
    if (!e) return 0;
    let off = 0;
    const branch = (b: N) => {
      const t = tokens(b), fns = bodies({ type: "ExpressionStatement", start: b.start, end: b.end, expression: b } as N).t;
      off += t - fns; // function bodies: the statement takes them off already
      put(b.start, `(${COUNTERS}.${X}+=`);
      const at = ins.length - 1, w = t - fns - branches(b);
      ins[at]!.text += `${w},`;
      put(b.end, ")");
    };
    walk.recursive(e, undefined, {
      Function: () => { /* its body counts when called */ },
      ConditionalExpression: (c: N, st: unknown, go: walk.WalkerCallback<unknown>) => { go(c.test, st); branch(c.consequent); branch(c.alternate); },
      LogicalExpression: (c: N, st: unknown, go: walk.WalkerCallback<unknown>) => { go(c.left, st); branch(c.right); },
    } as walk.RecursiveVisitors<unknown>);
    return off;
  };
  /**
   * Branch-counted parts of a statement: a simple statement's whole text, an if's test, a switch's discriminant
   * (a loop's test and update count with its iterations).
   */
  const branchesOf = (s: N): number => (!COMPOUND.has(s.type) ? (s.type === "FunctionDeclaration" ? 0 : branches(s)) : s.type === "IfStatement" ? branches(s.test) : s.type === "SwitchStatement" ? branches(s.discriminant) : 0);
  const list = (stmts: N[]) => { for (const s of stmts) statement(s); };
  /**
   * A counted statement: its own tokens before it (those of function bodies in it as lexed; those of its
   * conditional branches as each is taken), then what it contains.
   */
  const statement = (s: N) => {
    const b = bodies(s), w = own(s) - b.t - branchesOf(s);
    if (w) put(s.start, count(`${X}+=${w}`));
    if (b.n) put(s.start, count(lexed(...b.b)) + count(`f+=${b.n}`));
    inner(s);
  };
  /** A statement used as a body (if/loop): braced when it is not a block; `extra` runs first (a loop's iteration). */
  const body = (s: N, extra = "") => {
    if (s.type === "BlockStatement") { if (extra) put(s.start + 1, extra); list(s.body); return; }
    put(s.start, "{" + extra);
    statement(s);
    put(s.end, "}");
  };
  /** Whatever a statement contains: nested statements, and the functions in its expressions. */
  const inner = (s: N) => {
    switch (s.type) {
      case "BlockStatement": list(s.body); return;
      case "IfStatement": expr(s.test); body(s.consequent); if (s.alternate) body(s.alternate); return;
      case "ForStatement": case "WhileStatement": case "DoWhileStatement": case "ForInStatement": case "ForOfStatement": {
        // Each iteration lexes the test, the update and the body again (the enclosing code counted them once).
        for (const k of ["init", "test", "update", "left", "right"]) if (s[k]) expr(s[k]);
        body(s.body, count(lexed(s.test, s.update, s.left, s.body)) + count("i++"));
        return;
      }
      case "TryStatement": list(s.block.body); if (s.handler) list(s.handler.body.body); if (s.finalizer) list(s.finalizer.body); return;
      case "SwitchStatement": expr(s.discriminant); for (const c of s.cases) { if (c.test) expr(c.test); list(c.consequent); } return;
      case "LabeledStatement": inner(s.body); return;
      case "FunctionDeclaration": fn(s); return;
      default: expr(s);
    }
  };
  /** Function bodies inside an expression (or a declaration). */
  const expr = (e: N) => {
    walk.recursive(e, undefined, {
      Function: (f: N) => fn(f),
      // Classes are not ES5; their methods are functions too.
    } as walk.RecursiveVisitors<unknown>);
  };
  /** A function: a call lexes its whole body and binds its arguments; then its statements count as they run. */
  const fn = (f: N) => {
    if (f.body.type !== "BlockStatement") { expr(f.body); return; } // an arrow's expression body: not ES5, not counted
    const stmts: N[] = f.body.body;
    // After the directive prologue ("use strict" must stay the first statement).
    let i = 0;
    while (i < stmts.length && stmts[i]!.directive !== undefined) i++;
    put(i ? stmts[i - 1]!.end : f.body.start + 1, `${COUNTERS}.c++;${COUNTERS}.${lexed(f.body, { start: f.start, end: f.body.start })};`);
    inFn++;
    list(stmts.slice(i));
    inFn--;
  };

  const top: N[] = ast.body;
  let i = 0;
  while (i < top.length && top[i]!.directive !== undefined) i++;
  // The whole text is lexed once as it is evaluated (not `new Function`'s body, which is kept as text).
  if (lexScript) put(i ? top[i - 1]!.end : 0, count(lexed({ start: 0, end: src.length })));
  list(top.slice(i));
  // Stable by position: at one offset, what was put first comes first ("{" before the statement's counter, an
  // inner "}" before an outer one).
  const order = ins.map((x, k) => ({ ...x, k })).sort((a, b) => a.at - b.at || a.k - b.k);
  let out = "", at = 0;
  for (const x of order) { out += src.slice(at, x.at) + x.text; at = x.at; }
  return out + src.slice(at);
}

