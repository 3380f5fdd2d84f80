/**
 * The classic ESP32's RSA (MPI) accelerator and the DPORT registers that gate it, as peek32/poke32 see them.
 *
 * Addresses (ESP-IDF components/soc/esp32/include/soc/hwcrypto_reg.h, dport_reg.h): RSA base 0x3FF02000 with
 * memories M +0x000, Z +0x200, Y +0x400, X +0x600 (512 bytes each), M' +0x800, MODEXP_MODE +0x804,
 * MODEXP_START +0x808, MULT_MODE +0x80C, MULT_START +0x810, INTERRUPT +0x814, CLEAN +0x818;
 * DPORT_PERI_CLK_EN_REG 0x3FF0001C and DPORT_PERI_RST_EN_REG 0x3FF00020 (bit 2 RSA, bit 3 secure boot,
 * bit 4 digital signature, which also holds RSA in reset: "NB: Digital signature reset will hold AES & RSA
 * in reset"), DPORT_RSA_PD_CTRL_REG 0x3FF001FC bit 0 (memory power-down).
 *
 * Behaviour (components/hal/esp32/include/hal/mpi_ll.h, components/mbedtls/port/bignum/bignum_alt.c and
 * esp_bignum.c, the ESP32 technical reference manual's RSA Accelerator chapter):
 * - The block answers only with its clock on and out of reset; otherwise reads give 0 and writes are lost.
 *   Powering its memories down loses their content. Leaving power-down (or reset) clears the memories;
 *   CLEAN reads 0 for one read and then 1 (mbedtls polls it: "takes about 1.3us").
 * - MULT_START with MULT_MODE = blocks − 1 (0..3): one Montgomery product Z ← X·Z·R⁻¹ (R = 2^(512·blocks))
 *   as REDC (X·Z + m·M)/R with m from M' = −M⁻¹ mod 2^32, and no final subtraction (mbedtls subtracts in
 *   software: esp_mont_hw_op, "HAC 14.36 - 3"); a wrong M' gives a wrong result, as on the chip.
 * - MULT_MODE 8..11: plain product Z ← X·Y of N = 512·(mode − 7) bits, Y read from Z at word N/32
 *   (esp_mpi_mul_mpi_hw_op).
 * - MODEXP_START with MODEXP_MODE = blocks − 1: Z ← X^Y mod M; needs Z = R² mod M and M' (TRM).
 * - Each operation sets INTERRUPT to 1 when done; writing 1 clears it (mpi_ll_clear_interrupt).
 * Faults for tests: `wrong` flips a bit of every result, `stuck` never raises the done flag.
 */

export const RSA_BASE = 0x3ff02000;
export const DPORT_CLK_EN = 0x3ff0001c, DPORT_RST_EN = 0x3ff00020, DPORT_RSA_PD = 0x3ff001fc;
const BIT_RSA = 4, BIT_DS = 16, MEM_WORDS = 128;

// Words ↔ BigInt 64 bits at a time through a BigUint64Array view of the same memory (word i is bits
// 32i..32i+31, little-endian like the chip and any little-endian host): per-word string building or
// BigInt masks and shifts cost several times more, and the fuzzer runs thousands of X25519s on this model.
// Operands start at even words (the memories and the Y half of a product are 64-bit aligned).
const toBig = (m: Uint32Array, at: number, words: number): bigint => {
  let top = at + words;
  while (top > at && !m[top - 1]) top--; // operands are mostly short: skip the zero words
  if (top === at) return 0n;
  const q = new BigUint64Array(m.buffer, m.byteOffset + 4 * at, (top - at + 1) >> 1);
  let v = q[q.length - 1]!;
  for (let i = q.length - 2; i >= 0; i--) v = (v << 64n) | q[i]!;
  return v;
};
const fromBig = (m: Uint32Array, at: number, words: number, v: bigint) => { // v ≥ 0
  const q = new BigUint64Array(m.buffer, m.byteOffset + 4 * at, words >> 1);
  for (let i = 0; i < q.length; i++, v >>= 64n) q[i] = BigInt.asUintN(64, v);
};
const modPow = (b: bigint, e: bigint, m: bigint) => {
  let r = 1n % m; b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};
/** −m⁻¹ mod 2^bits for odd m (Newton iteration). */
const negInv = (m: bigint, bits: bigint) => {
  const R = 1n << bits;
  let x = 1n;
  for (let i = 0; i < 12; i++) x = (x * (2n - m * x)) % R;
  return (R - ((x % R) + R) % R) % R;
};

export class RsaBlock {
  /** DPORT registers: reset values per dport_reg.h (clock off, every peripheral held in reset). */
  clk = 0;
  rst = 0xffffffff;
  pd = 0;
  /** The four memories M, Z, Y, X, 128 words each, in address order. */
  ram = new Uint32Array(4 * MEM_WORDS);
  mdash = 0;
  modexpMode = 0;
  multMode = 0;
  done = 0;
  private cleanReads = 0;
  private inv = 0n;
  private invFor = 0n;
  private invR = 0n;
  /** Operations started (the simulator charges each its interpreter cost). */
  ops = 0;
  fault: "none" | "wrong" | "stuck" = "none";
  onOp?: () => void;

  /** M as a number; kept while M's words and size stay the same (an X25519 uses one modulus throughout). */
  private modulus(Mm: Uint32Array, n: number): bigint {
    const c = this.mCache;
    let same = c.n === n && c.words.length === n;
    for (let i = 0; same && i < n; i++) same = c.words[i] === Mm[i];
    if (!same) {
      c.n = n;
      c.words = Mm.slice(0, n);
      c.big = toBig(Mm, 0, n);
      c.mdash = -1;
    }
    return c.big;
  }
  /** Whether M' = −M⁻¹ mod 2^32 (else the product is garbage, as on the chip). */
  private mdashOk(m: bigint): boolean {
    const c = this.mCache;
    if (c.mdash !== this.mdash) { c.mdash = this.mdash; c.mdashOk = ((m * BigInt(this.mdash)) + 1n) % (1n << 32n) === 0n; }
    return c.mdashOk;
  }
  private mCache = { n: 0, words: new Uint32Array(0), big: 0n, mdash: -1, mdashOk: false };

  private on(): boolean { return !!(this.clk & BIT_RSA) && !(this.rst & (BIT_RSA | BIT_DS)); }
  private powered(): boolean { return this.on() && !(this.pd & 1); }

  /** True when addr belongs to this model. */
  static covers(addr: number): boolean {
    return addr === DPORT_CLK_EN || addr === DPORT_RST_EN || addr === DPORT_RSA_PD || (addr >= RSA_BASE && addr < RSA_BASE + 0x81c);
  }

  private setGates(f: () => void) {
    const before = this.powered();
    f();
    if (this.pd & 1 || !this.on()) this.ram.fill(0xdeadbeef); // content lost
    if (!before && this.powered()) {
      this.ram.fill(0);
      this.cleanReads = 0;
      this.done = 0;
    }
  }

  /**
   * Several words of the memories M/Z/Y/X at once, as read(addr + 4i) would give them; false (nothing done)
   * unless the whole range is block memory and the block is on (the caller then goes word by word).
   */
  readWords(addr: number, out: { length: number; [i: number]: number }): boolean {
    const off = addr - RSA_BASE;
    if (off < 0 || off & 3 || off + 4 * out.length > 0x800 || !this.on()) return false;
    if (this.pd & 1) for (let i = 0; i < out.length; i++) out[i] = 0;
    else for (let i = 0, w = off >> 2; i < out.length; i++) out[i] = this.ram[w + i]!;
    return true;
  }
  /** Several words into the memories, as write(addr + 4i, Number(v[i])) would store them; false as readWords. */
  writeWords(addr: number, v: ArrayLike<number>): boolean {
    const off = addr - RSA_BASE;
    if (off < 0 || off & 3 || off + 4 * v.length > 0x800 || !this.on()) return false;
    if (this.pd & 1) return true; // memories powered down: the stores are lost
    for (let i = 0, w = off >> 2; i < v.length; i++) this.ram[w + i] = Number(v[i]) >>> 0;
    return true;
  }

  read(addr: number): number {
    if (addr === DPORT_CLK_EN) return this.clk >>> 0;
    if (addr === DPORT_RST_EN) return this.rst >>> 0;
    if (addr === DPORT_RSA_PD) return this.pd >>> 0;
    if (!this.on()) return 0;
    const off = addr - RSA_BASE;
    if (off < 0x800) {
      if (this.pd & 1) return 0;
      return this.ram[off >> 2]!;
    }
    switch (off) {
      case 0x814: return this.done;
      case 0x818: return this.cleanReads++ ? 1 : 0;
      default: return 0; // the mode, M' and start registers read back as 0 in this model
    }
  }

  write(addr: number, v: number) {
    v >>>= 0;
    if (addr === DPORT_CLK_EN) return this.setGates(() => { this.clk = v; });
    if (addr === DPORT_RST_EN) return this.setGates(() => { this.rst = v; });
    if (addr === DPORT_RSA_PD) return this.setGates(() => { this.pd = v; });
    if (!this.on()) return;
    const off = addr - RSA_BASE;
    if (off < 0x800) {
      if (!(this.pd & 1)) this.ram[off >> 2] = v;
      return;
    }
    switch (off) {
      case 0x800: this.mdash = v; break;
      case 0x804: this.modexpMode = v & 3; break;
      case 0x808: if (v & 1) this.run("exp"); break;
      case 0x80c: this.multMode = v & 15; break;
      case 0x810: if (v & 1) this.run("mult"); break;
      case 0x814: if (v & 1) this.done = 0; break;
      default: break;
    }
  }

  private run(kind: "mult" | "exp") {
    this.ops++;
    this.onOp?.();
    if (this.pd & 1) return; // no memories: nothing happens
    const r = this.ram, Mm = r.subarray(0, MEM_WORDS), Zm = r.subarray(MEM_WORDS, 2 * MEM_WORDS),
      Ym = r.subarray(2 * MEM_WORDS, 3 * MEM_WORDS), Xm = r.subarray(3 * MEM_WORDS);
    let out: bigint, words: number;
    if (kind === "mult" && this.multMode >= 8) {
      const n = 16 * (this.multMode - 7);
      out = toBig(Xm, 0, n) * toBig(Zm, n, n);
      words = 2 * n;
    } else {
      const n = 16 * ((kind === "exp" ? this.modexpMode : this.multMode) + 1), bits = BigInt(32 * n);
      const m = this.modulus(Mm, n), R = 1n << bits;
      const x = toBig(Xm, 0, n), z = toBig(Zm, 0, n);
      words = n;
      if (m % 2n === 0n) out = 0n; // Montgomery needs an odd modulus: the chip's output is meaningless
      else if (!this.mdashOk(m)) out = (x * z) % R; // wrong M': garbage
      else if (kind === "exp") {
        const r2ok = z === (R * R) % m;
        out = r2ok ? modPow(x, toBig(Ym, 0, n), m) : (x * z) % R;
      } else {
        if (this.invFor !== m || this.invR !== R) { this.inv = negInv(m, bits); this.invFor = m; this.invR = R; }
        const t = x * z, mm = BigInt.asUintN(32 * n, BigInt.asUintN(32 * n, t) * this.inv);
        out = (t + mm * m) >> bits; // REDC without the final subtraction
      }
    }
    if (this.fault === "wrong") out ^= 1n << 3n;
    Zm.fill(0, 0, words);
    fromBig(Zm, 0, words, out);
    if (this.fault !== "stuck") this.done = 1;
  }
}
