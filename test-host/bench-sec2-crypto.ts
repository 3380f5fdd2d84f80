// Security 2's crypto inside the real interpreter: SHA-512, GCM, and the 3072-bit operations on the RSA block
// (src/crypto/esp32-bignum.ts) with the block stood in by RAM as the bench's accelerated X25519 is. Interpreter
// instructions by callgrind (each figure: a run with the operation minus the same run without it), JsVars by
// process.memory(), the block's hardware time from the simulator's model (test-host/sim/rsa.ts modexpMs).
//
//   ESPRUINO=/path/to/espruino node --import tsx test-host/bench-sec2-crypto.ts
// or from the bench: `await sec2CryptoFigures(espruino, say)`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { minify } from "terser";
import { MINIFY } from "../tools/build.mjs";
import { modexpMs, MULT_US } from "./sim/rsa";

const ROOT = path.resolve(import.meta.dirname, "..");
/** The RFC 5054 3072-bit group's N (Appendix A; ESP-IDF esp_srp.c N_3072), as the block's operand. */
const N_HEX =
  "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b" +
  "302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe6" +
  "49286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d" +
  "670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718" +
  "3995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7d" +
  "b3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200c" +
  "bbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff";

export interface Sec2CryptoFigures {
  /** Interpreter instructions (callgrind, x86) per operation. */
  instr: Record<string, number>;
  /** JsVars held at the peak of one 3072-bit MODEXP beyond its inputs, and one 384-byte operand's JsVars. */
  modexpPeakJsVars: number;
  operandJsVars: number;
}

/** Measures and prints (say) the figures; returns them. */
export async function sec2CryptoFigures(espruino: string, say: (s: string) => void): Promise<Sec2CryptoFigures> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-sec2-"));
  const entry = path.join(tmp, "entry.ts");
  const names = { "src/crypto/sha512": ["sha512"], "src/crypto/gcm": ["gcmSealWith", "gcmOpenWith"], "src/crypto/aes": ["aes256Expand", "aes256EncryptBlocks"],
    "src/crypto/esp32-bignum": ["modGroup", "blockModExp", "blockModMul", "modAdd", "isZeroMod"] } as Record<string, string[]>;
  fs.writeFileSync(entry, Object.entries(names).map(([f, n]) => `export { ${n.join(", ")} } from ${JSON.stringify(path.join(ROOT, f))};`).join("\n") + "\n");
  // Bundled as the firmware is (rollup + TypeScript: the register table's const enums inlined), minified with the
  // build's options but keeping top-level names (the scripts call them).
  const b = await rollup({
    input: entry, treeshake: { moduleSideEffects: false },
    plugins: [typescript({ tsconfig: path.join(ROOT, "tsconfig.json"), include: [path.join(ROOT, "src/**/*.ts"), entry], outputToFilesystem: false, noEmitOnError: true })],
  });
  const iife = (await b.generate({ format: "iife", name: "S2", strict: false, freeze: false, generatedCode: "es5" })).output[0].code;
  const opts = { ...MINIFY, toplevel: false, compress: { ...MINIFY.compress, toplevel: false }, mangle: { ...MINIFY.mangle, toplevel: false } };
  const lib = (await minify(iife + Object.values(names).flat().map((n) => `var ${n}=S2.${n};`).join(""), opts)).code!;
  // The block as RAM (0x820 bytes of RSA registers, 0x494 of DPORT), done and CLEAN preset to 1; peek(addr, n) a
  // fresh Uint32Array as peek32 returns (values not computed: results are not checked here, the tests do that).
  const ram = "var RA=new Uint32Array(520),DA=new Uint32Array(293),rb=E.getAddressOf(RA,true),db=E.getAddressOf(DA,true);RA[0x814>>2]=1;RA[0x818>>2]=1;" +
    "var PK=0,io={rsa:rb,dport:db,now:getTime,poke:poke32,peek:function(a,n){if(PK)PK=Math.max(PK,process.memory().usage);return n?new Uint32Array(n):a-db>=0&&a-db<1172?DA[(a-db)>>2]:RA[(a-rb)>>2];}};";
  // The library from Storage, as the board runs the bundle from flash (functions then refer to their code instead
  // of copying it into JsVars); evaluated at root scope as the board's boot code is.
  const setup = `require('Storage').eraseAll();require('Storage').write('.s2',${JSON.stringify(lib)});eval(require('Storage').read('.s2'));\n` + ram + `var NB=E.toUint8Array(atob(${JSON.stringify(Buffer.from(N_HEX, "hex").toString("base64"))})),G=modGroup(NB,NB),` +
    "X=new Uint8Array(384),Y=new Uint8Array(384),M=new Uint8Array(768),B16=new Uint8Array(1024),e32=new Uint8Array(32),e64=new Uint8Array(64),R;" +
    "for(var i=0;i<384;i++){X[i]=i*7+1;Y[i]=255-i;}X[0]=0x7f;Y[0]=0x7e;for(i=0;i<32;i++)e32[i]=i*13+5;for(i=0;i<64;i++)e64[i]=i*11+3;" +
    "function F(w){throw w;}function nop(b){}\n";
  const fifo = path.join(tmp, "stdin");
  execFileSync("mkfifo", [fifo]);
  const stdin = fs.openSync(fifo, "r+");
  const file = (body: string) => { const f = path.join(tmp, "s.js"); fs.writeFileSync(f, setup + body); return f; };
  const run = (body: string) => execFileSync(espruino, ["-e", fs.readFileSync(file(body), "utf8")], { encoding: "latin1", cwd: tmp, stdio: [stdin, "pipe", "pipe"], timeout: 600000 });
  const instr = (body: string): number => {
    const cg = path.join(tmp, "cg.out");
    execFileSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=" + cg, espruino, "-e", fs.readFileSync(file(body), "utf8")], { stdio: [stdin, "ignore", "ignore"], timeout: 1800000, cwd: tmp });
    return Number(/^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(cg, "utf8"))![1]);
  };
  try {
    // Each script must run: a failing operation (the stand-in gave up, a thrown error) would measure nothing.
    const ops: Record<string, string> = {
      "modGroup (M' in JS; R² given)": "R=modGroup(NB,NB);",
      "blockModExp, 256-bit exponent (g^b)": "blockModExp(io,G,X,e32,function(r){R=r;},F);",
      "blockModExp, 512-bit exponent (v^u)": "blockModExp(io,G,X,e64,function(r){R=r;},F);",
      "blockModExp, 3072-bit exponent": "blockModExp(io,G,X,Y,function(r){R=r;},F);",
      "blockModMul (A·v^u)": "blockModMul(io,G,X,Y,function(r){R=r;},F);",
      "modAdd (kv + g^b)": "R=modAdd(G,X,Y);",
      "isZeroMod (A mod N)": "R=isZeroMod(G,X);",
      "sha512, 768 bytes (PAD(A)‖PAD(B), 7 blocks)": "R=sha512(M);",
      "sha512, 64 bytes (1 block)": "R=sha512(e64);",
      "GCM seal, 1 KiB, GHASH + counter mode (AES not counted)": "R=gcmSealWith(nop,e32.subarray(0,12),B16);",
      "GCM seal, empty (H, tag: AES not counted)": "R=gcmSealWith(nop,e32.subarray(0,12),new Uint8Array(0));",
      "JS AES-256, 16 bytes (per block)": "aes256EncryptBlocks(W,B16.subarray(0,16));",
    };
    const base = instr("var W=aes256Expand(e32);");
    const res: Record<string, number> = {};
    for (const [name, body] of Object.entries(ops)) {
      const out = run("var W=aes256Expand(e32);" + body + "print('RAN');");
      if (!out.includes("RAN")) throw new Error(`${name}: did not run in Espruino:\n${out.slice(-400)}`);
      res[name] = instr("var W=aes256Expand(e32);" + body) - base;
    }
    // JsVars: the most in use during one MODEXP (sampled at every peek, after a GC) beyond what was in use before.
    const pk = /PEAK (\d+) (\d+)/.exec(run("var m0=process.memory().usage;PK=m0;blockModExp(io,G,X,e32,function(r){R=r;print('PEAK '+(PK-m0)+' '+E.getSizeOf(X));},F);"));
    const hwExp = modexpMs(96), hwMul = 2 * 9 * MULT_US / 1000;
    const est = (i: number, hw = 0) => `${(i / 240e6 * 1000 + hw).toFixed(0)}–${(i * 2.6 / 240e6 * 1000 + hw).toFixed(0)} ms`;
    say("\n-- Security 2 crypto in the interpreter (callgrind; the RSA block stood in by RAM, its hardware time from test-host/sim/rsa.ts)");
    for (const [name, i] of Object.entries(res)) {
      const hw = name.startsWith("blockModExp") ? hwExp : name.startsWith("blockModMul") ? hwMul : 0;
      say(`${name.padEnd(58)} ${(i / 1e6).toFixed(1).padStart(7)} M instructions` +
        (hw ? ` + hardware ${hw.toFixed(hw < 1 ? 2 : 0)} ms → ESP32 ≈ ${est(i, hw)}` : ` → ESP32 ≈ ${est(i)}`));
    }
    say(`  (ESP32 at 240 MHz: 1–2.6 cycles per x86 instruction, as the X25519 figures; the 3072-bit MODEXP runs over the whole width: ${hwExp.toFixed(0)} ms for any exponent)`);
    say(`JsVars one 3072-bit MODEXP   ${pk ? pk[1] : "n/a"} at its peak beyond its inputs; a 384-byte operand holds ${pk ? pk[2] : "n/a"}`);
    return { instr: res, modexpPeakJsVars: pk ? Number(pk[1]) : NaN, operandJsVars: pk ? Number(pk[2]) : NaN };
  } finally {
    fs.closeSync(stdin);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const E = process.env.ESPRUINO;
  if (!E || !fs.existsSync(E)) {
    console.error("bench-sec2-crypto: set ESPRUINO to an Espruino interpreter built for Linux (see docs/benchmark.md)");
    process.exit(2);
  }
  await sec2CryptoFigures(E, (s) => console.log(s));
}
