/**
 * The classic ESP32's RSA (MPI) block, driven through peek32/poke32 from JS: take it for one slice of work,
 * check before every operation that it is still ours, run operations with time-bounded waits, give it back as
 * ESP-IDF's mbedtls port leaves it. Registers: esp32-rsa-regs.ts (cited line by line in docs/esp32-rsa-block.md).
 *
 * Who else may use the block (docs/esp32-rsa-block.md §3): ESP-IDF's mbedtls port when the firmware build
 * has CONFIG_MBEDTLS_HARDWARE_MPI (TLS, WPA3 SAE in the Wi-Fi task). It takes the block with
 * esp_mpi_acquire_hardware (v3.3.6 components/mbedtls/port/esp_bignum.c:91-106; v4.4.8
 * components/mbedtls/port/esp32/bignum.c:42-54: clock on, reset off, power-down bit cleared, CLEAN awaited)
 * and gives it back with esp_mpi_release_hardware (esp_bignum.c:108-116 / bignum.c:56-64: power-down bit set,
 * RSA held in reset, clock off). It does not know about us: its lock is a newlib lock we cannot take. So:
 * - a slice starts only if the RSA clock is off (nobody holds the block);
 * - every operation is started only if the clock bit is still on (the start bit written is that bit): a task
 *   that pre-empted us and used the block (Espruino's task is pinned to core 0, as is the Wi-Fi task: it runs to
 *   completion of its own use, busy waiting, before ours resumes) has turned it off on release, so nothing
 *   starts, the wait sees the block gone and everything since our last check is void;
 * - at the end of a slice (and while waiting) the whole state is checked: clock, reset, power-down and the
 *   M' we wrote (mbedtls writes its own M' before each of its operations, bignum.c esp_mpi_mul_mpi_mod_hw_op).
 * Any sign of interference throws LOST: the caller drops what the slice computed and redoes the work in JS.
 * Waits are bounded in time (getTime), never in iterations: the clock differs per build and a MODEXP takes
 * far longer than a product.
 */
import { Base, Dport, Peri, PeriBit, RsaPd, Rsa, Efuse, EfuseBit, ApbCtrl } from "./esp32-rsa-regs";

/** peek32 / poke32 / getTime as Espruino has them (src/jswrap_io.c, src/jswrap_interactive.c), and the bases. */
export interface MpiIo {
  peek(addr: number, n?: number): any;
  poke(addr: number, v: number | ArrayLike<number>): void;
  /** getTime(): seconds since boot, microsecond resolution on the ESP32 (targets/esp32/jshardware.c jshGetSystemTime). */
  now(): number;
  /** RSA block base (Base.RSA on the chip; the bench puts RAM here). */
  rsa: number;
  /** DPORT base (Base.DPORT on the chip). */
  dport: number;
}

/** Why the block was not used or given up (thrown as strings, as the ladder's own errors). */
export var BUSY = "busy", LOST = "taken by another user", SILENT = "no answer";

/**
 * Longest wait for CLEAN or an operation's done flag, in seconds. mbedtls notes ≈ 1.3 µs for CLEAN
 * (bignum.c:53); a 1024-bit product takes microseconds and the inversion's 1024-bit MODEXP about 16 ms at 240 MHz
 * (it runs over the whole operand width; fitted to ESP-IDF's measured MODEXP times, test-host/sim/rsa.ts modexpMs).
 * 0.1 s is ≈ 6× above that at 240 MHz and ≈ 2× at 80 MHz if the block slows with the clock (a 3072-bit MODEXP
 * has its own bound, esp32-bignum.ts EXP_WAIT_S), and short enough that a block that never answers costs one tenth
 * of a second once (the self-test then selects the JS X25519 for good).
 */
export var WAIT_S = 0.1;

/** Blocks of 512 bits: MULT_MODE / MODEXP_MODE = blocks − 1 (ESP32 TRM, RSA accelerator; bignum.c (hw_words / 16) − 1). */
export interface RsaBlock {
  /** Takes the block for one slice and loads M (words), M' and the mode; "" when taken, else why not. */
  acquire(m: ArrayLike<number>, mdash: number, mode: number): string;
  /** The whole state still ours (clock on, out of reset, powered, our M'), else throws LOST. */
  verify(): void;
  /** Waits (bounded in time) for the done flag of the operation just started, checking ownership as it goes. */
  wait(): void;
  /** Starts the operation at offset `start` (Rsa.MULT_START, Rsa.MODEXP_START) if the block is still ours, waits, clears the flag. */
  run(start: number): void;
  /** Powers the memories down, holds RSA in reset, stops its clock (esp_mpi_release_hardware), other bits kept. */
  release(): void;
}

export function rsaBlock(io: MpiIo): RsaBlock {
  var E = io.peek, K = io.poke, B = io.rsa, CK = io.dport + Dport.PERI_CLK_EN, RS = io.dport + Dport.PERI_RST_EN,
    PD = io.dport + Dport.RSA_PD_CTRL, md = 0;
  /** Clock on, out of reset, powered: the state acquire sets. */
  function held(): boolean {
    return !!(E(CK) & Peri.RSA) && !(E(RS) & (Peri.RSA | Peri.DIGITAL_SIGNATURE)) && !(E(PD) & RsaPd.PD);
  }
  function mine(): boolean {
    return held() && E(B + Rsa.M_DASH) === md;
  }
  /**
   * Polls `reg` until it reads 1, at most WAIT_S, throwing LOST as soon as `ours()` is false; a clock that goes back
   * or jumps (setTime) ends the wait too.
   */
  function until(reg: number, ours: () => boolean) {
    var t0 = io.now(), t;
    while (E(reg) !== 1) {
      if (!ours()) throw LOST;
      t = io.now() - t0;
      if (t < 0 || t > WAIT_S) throw SILENT;
    }
  }
  var blk: RsaBlock = {
    acquire: function (m, mdash, mode) {
      var c = E(CK);
      // mbedtls keeps the clock on only while it holds the block: on means someone has it.
      if (c & Peri.RSA) return BUSY;
      // Read-modify-write without ESP-IDF's periph spinlock (docs/esp32-rsa-block.md §3, residual risks).
      K(CK, c | Peri.RSA);
      K(RS, E(RS) & ~(Peri.RSA | Peri.DIGITAL_SIGNATURE));
      K(PD, E(PD) & ~RsaPd.PD);
      try {
        // Another task (mbedtls) that takes and releases the block meanwhile turns its clock off: then it was only
        // busy, not silent, and the accelerator stays in use (BUSY). The block is left as that task left it.
        until(B + Rsa.CLEAN, held);
      } catch (e) {
        if (e === LOST) return BUSY;
        blk.release();
        return "" + e;
      }
      K(B + Rsa.MEM_M, m);
      K(B + Rsa.M_DASH, (md = mdash));
      K(B + Rsa.MULT_MODE, mode);
      K(B + Rsa.MODEXP_MODE, mode);
      return "";
    },
    verify: function () {
      if (!mine()) throw LOST;
    },
    wait: function () {
      until(B + Rsa.INTERRUPT, mine);
    },
    run: function (start) {
      K(B + start, E(CK) >> PeriBit.RSA & 1); // starts only on a block still ours (see x25519-mpi.ts)
      if (E(B + Rsa.INTERRUPT) !== 1) blk.wait();
      K(B + Rsa.INTERRUPT, 1);
    },
    release: function () {
      // The digital-signature unit is left out of reset: its reset would hold AES too (dport_reg.h).
      K(PD, E(PD) | RsaPd.PD);
      K(RS, E(RS) | Peri.RSA);
      K(CK, E(CK) & ~Peri.RSA);
    },
  };
  return blk;
}

/**
 * The chip's major revision as ESP-IDF computes it (v4.4.8 components/hal/esp32/efuse_hal.c:16-46,
 * v3.3.6 components/efuse/src/esp_efuse_fields.c:33-58): eFuse CHIP_VER_REV1, CHIP_VER_REV2 and
 * APB_CTRL_DATE bit 31 → 0, 1, 2 or 3; and whether the APP CPU is fused off (a single-core chip).
 * Each word is read three times and must read the same: on revisions before 3 a read in this address range can
 * itself be corrupted by the other core (ESP32 errata CPU-3.10), and a word that reads two ways gives -1.
 */
export function chipRevision(io: MpiIo): { rev: number; singleCore: boolean } {
  var w: number[] = [], a = [Base.EFUSE + Efuse.BLK0_RDATA3, Base.EFUSE + Efuse.BLK0_RDATA5, Base.APB_CTRL + ApbCtrl.DATE];
  for (var i = 0; i < 3; i++) {
    var v = io.peek(a[i]!);
    if (io.peek(a[i]!) !== v || io.peek(a[i]!) !== v) return { rev: -1, singleCore: false };
    w.push(v);
  }
  var bits = ((w[2]! >>> 31) << 2) | (w[1]! & EfuseBit.CHIP_VER_REV2 ? 2 : 0) | (w[0]! & EfuseBit.CHIP_VER_REV1 ? 1 : 0);
  return { rev: bits === 7 ? 3 : bits === 3 ? 2 : bits === 1 ? 1 : 0, singleCore: !!(w[0]! & EfuseBit.DIS_APP_CPU) };
}
