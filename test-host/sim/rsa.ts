/**
 * The classic ESP32's RSA (MPI) accelerator, the DPORT registers that gate it and the eFuse/APB words that give
 * the chip revision, as peek32/poke32 see them. Every address comes from src/crypto/esp32-rsa-regs.ts (the table
 * the firmware's driver uses too, cited line by line in docs/esp32-rsa-block.md); an access to any other address,
 * a write to a read-only register or an unaligned access throws, as no such access may happen on the board.
 *
 * Behaviour (ESP-IDF v3.3.6 components/mbedtls/port/esp_bignum.c, v4.4.8 components/mbedtls/port/esp32/bignum.c,
 * dport_reg.h; docs/esp32-rsa-block.md §2):
 * - The block answers only with its clock on (DPORT_PERI_CLK_EN bit 2) and out of reset (DPORT_PERI_RST_EN
 *   bits 2 and 4: the digital-signature reset holds RSA too); otherwise reads give 0 and writes are lost.
 *   DPORT_RSA_PD_CTRL bit 0 powers the memories down: their content is lost, reads give 0, writes are lost.
 *   Coming out of reset or power-down clears the memories; CLEAN reads 1 once that is done (≈ 1.3 µs,
 *   bignum.c:53) and 0 before.
 * - MULT_START with MULT_MODE = blocks − 1 (0..7, up to 4096 bits; ESP-IDF uses up to 7, v3.3.6
 *   esp_bignum.c:592-605): one Montgomery product Z ← X·Z·R⁻¹ (R = 2^(512·blocks))
 *   as REDC (X·Z + m·M)/R with m from M' = −M⁻¹ mod 2^32, no final subtraction (mbedtls subtracts in software);
 *   a wrong M' gives a wrong result, as on the chip. MULT_MODE 9, 11, 13, 15 (2·blocks + 7): plain product
 *   Z ← X·Y of 256·(mode − 7) bits, Y read from Z at word N/32 (esp_mpi_mul_mpi_hw_op).
 *   A REDC result that would not fit the memory (≥ R, possible when M's top bit is set) comes back less M.
 * - MODEXP_START with MODEXP_MODE = blocks − 1 (0..7, up to 4096 bits): Z ← X^Y mod M; needs Z = R² mod M and M'
 *   (TRM).
 * - An operation takes device time (MULT_US per 1024-bit product, growing with the square of the size; MODEXP
 *   modexpMs, fitted to ESP-IDF's measurement); INTERRUPT reads 1 once it is over, writing 1
 *   clears it.
 * - `mbedtlsUse()` is what ESP-IDF's mbedtls port does for one operation in a task that pre-empts ours
 *   (acquire, operands, operation, result, release), and `interfereAt` runs it before a chosen access.
 * Faults for tests: `wrong` flips a bit of every result, `stuck` never raises the done flag; `overflow = "wrap"`
 * drops a REDC result's carry instead of reducing it.
 */
import { Base, Dport, Peri, RsaPd, Rsa, Efuse, EfuseBit, ApbCtrl, registerAt } from "../../src/crypto/esp32-rsa-regs";

export const RSA_BASE = Base.RSA, DPORT_BASE = Base.DPORT;
export const DPORT_CLK_EN = Base.DPORT + Dport.PERI_CLK_EN, DPORT_RST_EN = Base.DPORT + Dport.PERI_RST_EN, DPORT_RSA_PD = Base.DPORT + Dport.RSA_PD_CTRL;
const MEM_WORDS = 128;
/**
 * Hardware time of one 1024-bit Montgomery product on a 240 MHz ESP32 (µs). The TRM gives no per-size table;
 * measured 2048-bit modular multiplications take 19 µs at 240 MHz (esp32.com forum t=23830); the work grows with
 * the square of the size, so 1024 bits ≈ 5 µs.
 */
export const MULT_US = 5;
/**
 * Montgomery products one MODEXP of `words`-word operands takes: a square and a multiplication for every bit of the
 * operand width. The classic ESP32's MODEXP has no way to start at the exponent's top bit: the later chips'
 * "search" option does that (ESP-IDF v4.4.8 components/mbedtls/port/esp32s2/bignum.c:168-171, RSA_SEARCH_OPEN_REG /
 * RSA_SEARCH_POS_REG), which the ESP32's register set lacks (hwcrypto_reg.h), and ESP-IDF stops using the ESP32's
 * MODEXP because it "is slow for public key operations" (short exponents: v4.4.8
 * components/mbedtls/port/include/bignum_impl.h:7-14).
 */
export const MODEXP_PRODUCTS = (words: number) => 2 * 32 * words;
/**
 * Per product of a MODEXP, beyond MULT_US·(words/32)² µs: the step between products (µs). Fitted to ESP-IDF's own
 * measurement of the ESP32's hardware MODEXP (commit 5ed8388f6b5, 2019-10-19, "mbedtls: Add Montgomery
 * exponentiation implementation": RSA public operations, e = 65537, one MODEXP each, unit-test-app at 240 MHz,
 * "the calculations always started with 4096 bit"): 2048 bits 93.2 ms, 3072 bits 293.6 ms, 4096 bits 653.2 ms.
 * With 2·32·words products of (2.8 + MULT_US·(words/32)²) µs the model gives 93.4, 293.7 and 678 ms (+4% at
 * 4096), and ≈ 16 ms for X25519's 1024-bit inversion.
 */
export const MODEXP_STEP_US = 2.8;
/** Hardware time of one MODEXP of `words`-word operands on a 240 MHz ESP32, in ms. */
export const modexpMs = (words: number) => MODEXP_PRODUCTS(words) * (MODEXP_STEP_US + (words / 32) ** 2 * MULT_US) / 1000;
/** Memories cleared and CLEAN set this long after power-up or reset release (µs; bignum.c:53 "about 1.3us"). */
export const CLEAN_US = 1.3;
/** Device time one interpreted poll of a register costs (peek32, compare, getTime: ≈ 25 k instructions). */
export const POLL_MS = 0.1;

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
export const negInv = (m: bigint, bits: bigint) => {
  const R = 1n << bits;
  let x = 1n;
  for (let i = 0; i < 12; i++) x = (x * (2n - m * x)) % R;
  return (R - ((x % R) + R) % R) % R;
};

/** The chip the model stands for: its major revision (0..3) and whether the APP CPU is fused off. */
export interface ChipInfo { rev: 0 | 1 | 2 | 3; singleCore?: boolean }

export class RsaBlock {
  /** DPORT registers, at their reset values (dport_reg.h: "default: 32'h0", docs/esp32-rsa-block.md). */
  clk = 0;
  rst = 0;
  pd = 0;
  /** The four memories M, Z, Y, X, 128 words each, in address order. */
  ram = new Uint32Array(4 * MEM_WORDS);
  mdash = 0;
  modexpMode = 0;
  multMode = 0;
  private doneAt = Infinity;
  private cleanAt = 0;
  private inv = 0n;
  private invFor = 0n;
  private invR = 0n;
  /** Operations the firmware started (tests and the bench count them; their JS is priced by the cost model). */
  ops = 0;
  /** Every access through read/write, counted (interfereAt refers to it). */
  accesses = 0;
  fault: "none" | "wrong" | "stuck" = "none";
  /**
   * What a REDC result ≥ R becomes: "reduce" (less M, the behaviour ESP-IDF relies on) or, for tests of the
   * self-test, "wrap" (the carry out of the memory dropped: the value mod R, a chip that did not handle the case).
   */
  overflow: "reduce" | "wrap" = "reduce";
  /**
   * Operations and the clearing after power-up take this many times their modelled duration (a slower clock, a
   * slower chip; 0 in a simulator run without slow-down, where device time does not pass within a JS item).
   */
  slow = 1;
  /** Before the access with this number (accesses), another task runs one mbedtls operation on the block. */
  interfereAt = -1;
  /** mbedtls operations run by interfereAt / mbedtlsUse, and whether each got the right answer. */
  mbedtlsRuns: boolean[] = [];
  /** Device time in ms; the simulator sets it to its clock. Alone, the model advances POLL_MS per poll. */
  now: () => number = () => this.ownClock;
  private ownClock = 0;

  constructor(public chip: ChipInfo = { rev: 3 }) {}

  /** True when addr is in the register table (src/crypto/esp32-rsa-regs.ts). */
  static covers(addr: number): boolean {
    return registerAt(addr) !== undefined;
  }

  private on(): boolean { return !!(this.clk & Peri.RSA) && !(this.rst & (Peri.RSA | Peri.DIGITAL_SIGNATURE)); }
  private powered(): boolean { return this.on() && !(this.pd & RsaPd.PD); }

  private setGates(f: () => void) {
    const before = this.powered();
    f();
    if (!this.powered()) { this.ram.fill(0xdeadbeef); this.doneAt = Infinity; } // content and operation lost
    if (!before && this.powered()) {
      this.ram.fill(0);
      this.cleanAt = this.now() + this.slow * CLEAN_US / 1000;
    }
  }

  /** Per word, what the eFuse and APB_CTRL_DATE words read on this chip (efuse_hal.c: rev 1 = REV1, 2 = +REV2, 3 = +DATE bit 31). */
  private chipWord(addr: number): number {
    const r = this.chip.rev;
    if (addr === Base.EFUSE + Efuse.BLK0_RDATA3) return (r >= 1 ? EfuseBit.CHIP_VER_REV1 : 0) | (this.chip.singleCore ? EfuseBit.DIS_APP_CPU : 0);
    if (addr === Base.EFUSE + Efuse.BLK0_RDATA5) return r >= 2 ? EfuseBit.CHIP_VER_REV2 : 0;
    return (0x16042000 | (r >= 3 ? 0x80000000 : 0)) >>> 0; // APB_CTRL_DATE
  }

  private access(addr: number, write: boolean) {
    const reg = registerAt(addr);
    const hex = "0x" + (addr >>> 0).toString(16);
    if (!reg) throw new Error(`${write ? "poke32" : "peek32"}: no register of the RSA table at ${hex}`);
    if (write && reg.access === "ro") throw new Error(`poke32: ${reg.name} (${hex}) is read-only`);
    if (this.accesses++ === this.interfereAt) this.mbedtlsUse();
  }

  read(addr: number): number {
    this.access(addr, false);
    if (addr === DPORT_CLK_EN) return this.clk >>> 0;
    if (addr === DPORT_RST_EN) return this.rst >>> 0;
    if (addr === DPORT_RSA_PD) return this.pd >>> 0;
    if (addr < RSA_BASE || addr >= RSA_BASE + 0x1000) return this.chipWord(addr);
    if (!this.on()) return 0;
    const off = addr - RSA_BASE;
    if (off < 0x800) return this.pd & RsaPd.PD ? 0 : this.ram[off >> 2]!;
    switch (off) {
      case Rsa.M_DASH: return this.mdash;
      case Rsa.MODEXP_MODE: return this.modexpMode;
      case Rsa.MULT_MODE: return this.multMode;
      case Rsa.INTERRUPT: return this.flag(this.doneAt);
      case Rsa.CLEAN: return this.pd & RsaPd.PD ? 0 : this.flag(this.cleanAt);
      default: return 0; // the start registers are write-only
    }
  }

  /**
   * 1 once device time reaches t. Alone, the model's own clock advances POLL_MS per poll that finds 0; in the
   * simulator device time advances with the firmware's polling loop itself (its work, as the cost model counts it).
   */
  private flag(t: number): number {
    if (this.now() >= t) return 1;
    this.ownClock += POLL_MS;
    return this.now() >= t ? 1 : 0;
  }

  write(addr: number, v: number) {
    this.access(addr, true);
    v >>>= 0;
    if (addr === DPORT_CLK_EN) return this.setGates(() => { this.clk = v; });
    if (addr === DPORT_RST_EN) return this.setGates(() => { this.rst = v; });
    if (addr === DPORT_RSA_PD) return this.setGates(() => { this.pd = v; });
    if (!this.on()) return;
    const off = addr - RSA_BASE;
    if (off < 0x800) {
      if (!(this.pd & RsaPd.PD)) this.ram[off >> 2] = v;
      return;
    }
    switch (off) {
      case Rsa.M_DASH: this.mdash = v; break;
      case Rsa.MODEXP_MODE: this.modexpMode = v & 7; break; // blocks − 1, up to 4096 bits (esp_bignum.c:377, 398)
      case Rsa.MODEXP_START: if (v & 1) this.run("exp"); break;
      case Rsa.MULT_MODE: this.multMode = v & 15; break;
      case Rsa.MULT_START: if (v & 1) this.run("mult"); break;
      case Rsa.INTERRUPT: if (v & 1) this.doneAt = Infinity; break;
      default: break;
    }
  }

  /**
   * Several words of the memories at once, as read(addr + 4i) would give them (the simulator's fast path for
   * peek32(addr, n)); false (nothing done) unless the whole range is one memory, nothing is due to interfere
   * and the block is on.
   */
  readWords(addr: number, out: { length: number; [i: number]: number }): boolean {
    if (!this.bulk(addr, out.length)) return false;
    this.accesses += out.length;
    if (this.pd & RsaPd.PD) for (let i = 0; i < out.length; i++) out[i] = 0;
    else for (let i = 0, w = (addr - RSA_BASE) >> 2; i < out.length; i++) out[i] = this.ram[w + i]!;
    return true;
  }
  /** Several words into the memories, as write(addr + 4i, Number(v[i])) would store them; false as readWords. */
  writeWords(addr: number, v: ArrayLike<number>): boolean {
    if (!this.bulk(addr, v.length)) return false;
    this.accesses += v.length;
    if (this.pd & RsaPd.PD) return true; // memories powered down: the stores are lost
    for (let i = 0, w = (addr - RSA_BASE) >> 2; i < v.length; i++) this.ram[w + i] = Number(v[i]) >>> 0;
    return true;
  }
  private bulk(addr: number, n: number): boolean {
    const off = addr - RSA_BASE, reg = registerAt(addr);
    return !!reg && reg.words === MEM_WORDS && off + 4 * n <= reg.addr - RSA_BASE + 4 * MEM_WORDS && this.on() &&
      !(this.interfereAt >= this.accesses && this.interfereAt < this.accesses + n);
  }

  private run(kind: "mult" | "exp") {
    this.ops++;
    const r = this.ram, Mm = r.subarray(0, MEM_WORDS), Zm = r.subarray(MEM_WORDS, 2 * MEM_WORDS),
      Ym = r.subarray(2 * MEM_WORDS, 3 * MEM_WORDS), Xm = r.subarray(3 * MEM_WORDS);
    let out: bigint, words: number, products = 1, ms = 0;
    if (kind === "mult" && this.multMode >= 8) {
      // Plain product: MULT_MODE = 2·blocks + 7, i.e. operands of 8·(mode − 7) words (esp_bignum.c:555, bignum.c:182).
      const n = 8 * (this.multMode - 7);
      out = toBig(Xm, 0, n) * toBig(Zm, n, n);
      words = 2 * n;
      products = (n / 32) ** 2;
    } else {
      const n = 16 * ((kind === "exp" ? this.modexpMode : this.multMode) + 1), bits = BigInt(32 * n);
      const m = toBig(Mm, 0, n), R = 1n << bits;
      const x = toBig(Xm, 0, n), z = toBig(Zm, 0, n);
      words = n;
      products = (n / 32) ** 2;
      const mdashOk = m % 2n === 1n && ((m * BigInt(this.mdash)) + 1n) % (1n << 32n) === 0n;
      if (!mdashOk) out = (x * z) % R; // even modulus or wrong M': the chip's output is meaningless
      else if (kind === "exp") {
        const y = toBig(Ym, 0, n);
        // A square and a multiplication per bit of the operand width, whatever the exponent's length (modexpMs).
        ms = modexpMs(n);
        out = z === (R * R) % m ? modPow(x, y, m) : (x * z) % R;
      } else {
        if (this.invFor !== m || this.invR !== R) { this.inv = negInv(m, bits); this.invFor = m; this.invR = R; }
        const t = x * z, mm = BigInt.asUintN(32 * n, BigInt.asUintN(32 * n, t) * this.inv);
        out = (t + mm * m) >> bits; // REDC without the final subtraction…
        // …unless the result does not fit the memory: for a modulus with its top bit set (every RSA modulus, the SRP
        // groups) REDC can reach 2M > R, and mbedtls reads the two-step product's result unchecked
        // (v3.3.6 esp_bignum.c:453-472, v4.4.8 esp_bignum.c esp_mpi_mul_mpi_mod), so the chip must reduce it.
        if (out >= R) out -= this.overflow === "wrap" ? R : m;
      }
    }
    if (this.fault === "wrong") out ^= 1n << 3n;
    Zm.fill(0, 0, words);
    fromBig(Zm, 0, words, out);
    this.doneAt = this.fault === "stuck" ? Infinity : this.now() + this.slow * (ms || products * MULT_US / 1000);
  }

  /**
   * One operation of ESP-IDF's mbedtls port, in another task, through the same registers: esp_mpi_acquire_hardware
   * (periph_module_enable: clock on and reset off unless its reference count says it has them; power-down bit
   * cleared; CLEAN awaited), a 512-bit modular multiplication as esp_mpi_mul_mpi_mod_hw_op does it (M, M', mode,
   * X, Z = R² mod M then Y, two products), the result read, esp_mpi_release_hardware (power-down bit set, RSA in
   * reset, clock off). Nothing it does is counted in `accesses`.
   */
  mbedtlsUse() {
    const saved = this.interfereAt;
    this.interfereAt = -1;
    const acc = this.accesses, rd = (a: number) => this.read(a), wr = (a: number, v: number) => this.write(a, v);
    const M = (1n << 256n) - (1n << 224n) + (1n << 192n) + (1n << 96n) - 1n; // NIST P-256 p, as WPA3 SAE uses
    const mem = (base: number, v: bigint) => { for (let i = 0; i < 16; i++, v >>= 32n) wr(base + 4 * i, Number(v & 0xffffffffn)); };
    const x = 0x1234567890abcdefn, y = 0xfedcba0987654321n, R = 1n << 512n;
    wr(DPORT_CLK_EN, rd(DPORT_CLK_EN) | Peri.RSA);
    // periph_module_enable(PERIPH_RSA_MODULE) clears the digital-signature reset too (periph_ctrl.c:205-207).
    wr(DPORT_RST_EN, rd(DPORT_RST_EN) & ~(Peri.RSA | Peri.DIGITAL_SIGNATURE));
    wr(DPORT_RSA_PD, rd(DPORT_RSA_PD) & ~RsaPd.PD);
    this.ownClock += CLEAN_US / 1000;
    mem(RSA_BASE + Rsa.MEM_M, M);
    wr(RSA_BASE + Rsa.M_DASH, Number(negInv(M, 32n)));
    wr(RSA_BASE + Rsa.MULT_MODE, 0);
    mem(RSA_BASE + Rsa.MEM_X, x);
    mem(RSA_BASE + Rsa.MEM_Z, (R * R) % M);
    wr(RSA_BASE + Rsa.INTERRUPT, 1);
    wr(RSA_BASE + Rsa.MULT_START, 1);
    this.doneAt = -Infinity; // mbedtls busy-waits the operation out
    wr(RSA_BASE + Rsa.INTERRUPT, 1);
    mem(RSA_BASE + Rsa.MEM_X, y);
    wr(RSA_BASE + Rsa.MULT_START, 1);
    this.doneAt = -Infinity;
    wr(RSA_BASE + Rsa.INTERRUPT, 1);
    let z = 0n;
    for (let i = 15; i >= 0; i--) z = (z << 32n) | BigInt(rd(RSA_BASE + Rsa.MEM_Z + 4 * i));
    this.mbedtlsRuns.push(z % M === (x * y) % M);
    wr(DPORT_RSA_PD, rd(DPORT_RSA_PD) | RsaPd.PD);
    wr(DPORT_CLK_EN, rd(DPORT_CLK_EN) & ~Peri.RSA);
    wr(DPORT_RST_EN, rd(DPORT_RST_EN) | Peri.RSA);
    this.accesses = acc;
    this.interfereAt = saved;
    this.ops -= 2; // ops counts the firmware's operations
  }
}
