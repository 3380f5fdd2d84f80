/**
 * The classic ESP32's RSA (MPI) accelerator and the registers around it that this firmware touches: the ONE
 * table the driver (esp32-rsa.ts, x25519-mpi.ts) and the simulator's model (test-host/sim/rsa.ts) both use.
 * docs/esp32-rsa-block.md gives every address, bit and reset value with the ESP-IDF file and line it comes
 * from (v3.3.6 and v4.4.8 agree on all of them); test-host/tests/esp32-rsa.test.ts checks that page against
 * this table.
 *
 * The firmware uses the const enums only: the compiler writes their values in place, so they cost no JsVars and
 * no bundle bytes beyond the numbers. REGISTERS (what the simulator and the tests read) is never referenced by
 * the firmware and rollup drops it.
 */

/** Peripheral bases (components/soc/esp32/include/soc/soc.h DR_REG_*_BASE). */
export const enum Base {
  DPORT = 0x3ff00000,
  RSA = 0x3ff02000,
  EFUSE = 0x3ff5a000,
  APB_CTRL = 0x3ff66000,
}

/** DPORT registers, offsets from Base.DPORT (components/soc/esp32/include/soc/dport_reg.h). */
export const enum Dport {
  PERI_CLK_EN = 0x01c,
  PERI_RST_EN = 0x020,
  RSA_PD_CTRL = 0x490,
}

/** Bits of DPORT_PERI_CLK_EN_REG and DPORT_PERI_RST_EN_REG (dport_reg.h DPORT_PERI_EN_*). */
export const enum Peri {
  RSA = 1 << 2,
  /** Its reset also holds RSA (and AES) in reset ("NB: Digital signature reset will hold AES & RSA in reset"). */
  DIGITAL_SIGNATURE = 1 << 4,
}

/** The same bits as positions: `E(CK) >> PeriBit.RSA & 1` is the RSA clock bit as 0 or 1. */
export const enum PeriBit {
  RSA = 2,
}

/** DPORT_RSA_PD_CTRL_REG bit 0: 1 powers the RSA memories down (dport_reg.h DPORT_RSA_PD). */
export const enum RsaPd {
  PD = 1,
}

/** RSA block, offsets from Base.RSA (components/soc/esp32/include/soc/hwcrypto_reg.h). */
export const enum Rsa {
  MEM_M = 0x000,
  MEM_Z = 0x200,
  MEM_Y = 0x400,
  MEM_X = 0x600,
  M_DASH = 0x800,
  MODEXP_MODE = 0x804,
  MODEXP_START = 0x808,
  MULT_MODE = 0x80c,
  MULT_START = 0x810,
  INTERRUPT = 0x814,
  CLEAN = 0x818,
}

/** eFuse read registers, offsets from Base.EFUSE (components/soc/esp32/include/soc/efuse_reg.h). */
export const enum Efuse {
  BLK0_RDATA3 = 0x00c,
  BLK0_RDATA5 = 0x014,
}

/** Bits of those eFuse words. */
export const enum EfuseBit {
  /** BLK0_RDATA3 bit 0: the APP CPU is disabled (a single-core chip). */
  DIS_APP_CPU = 1,
  /** BLK0_RDATA3 bit 15: EFUSE_RD_CHIP_VER_REV1. */
  CHIP_VER_REV1 = 1 << 15,
  /** BLK0_RDATA5 bit 20: EFUSE_RD_CHIP_VER_REV2. */
  CHIP_VER_REV2 = 1 << 20,
}

/** APB_CTRL_DATE_REG (apb_ctrl_reg.h), offset from Base.APB_CTRL; its bit 31 is the third revision bit. */
export const enum ApbCtrl {
  DATE = 0x07c,
}

/** One row of the table: what the simulator models and docs/esp32-rsa-block.md cites. */
export interface RegisterInfo {
  name: string;
  addr: number;
  /** 32-bit words the row covers (128 for each memory). */
  words: number;
  /** Bus access: "rw", "ro" (the simulator rejects writes) or "wo" (reads give 0 in the model). */
  access: "rw" | "ro" | "wo";
  /** Value after a chip reset (undefined: set by the chip, e.g. eFuse, or not stated by ESP-IDF). */
  reset?: number;
}

export var REGISTERS: RegisterInfo[] = [
  { name: "DPORT_PERI_CLK_EN_REG", addr: Base.DPORT + Dport.PERI_CLK_EN, words: 1, access: "rw", reset: 0 },
  { name: "DPORT_PERI_RST_EN_REG", addr: Base.DPORT + Dport.PERI_RST_EN, words: 1, access: "rw", reset: 0 },
  { name: "DPORT_RSA_PD_CTRL_REG", addr: Base.DPORT + Dport.RSA_PD_CTRL, words: 1, access: "rw", reset: 0 },
  { name: "RSA_MEM_M_BLOCK", addr: Base.RSA + Rsa.MEM_M, words: 128, access: "rw" },
  { name: "RSA_MEM_Z_BLOCK", addr: Base.RSA + Rsa.MEM_Z, words: 128, access: "rw" },
  { name: "RSA_MEM_Y_BLOCK", addr: Base.RSA + Rsa.MEM_Y, words: 128, access: "rw" },
  { name: "RSA_MEM_X_BLOCK", addr: Base.RSA + Rsa.MEM_X, words: 128, access: "rw" },
  { name: "RSA_M_DASH_REG", addr: Base.RSA + Rsa.M_DASH, words: 1, access: "rw" },
  { name: "RSA_MODEXP_MODE_REG", addr: Base.RSA + Rsa.MODEXP_MODE, words: 1, access: "rw" },
  { name: "RSA_START_MODEXP_REG", addr: Base.RSA + Rsa.MODEXP_START, words: 1, access: "wo" },
  { name: "RSA_MULT_MODE_REG", addr: Base.RSA + Rsa.MULT_MODE, words: 1, access: "rw" },
  { name: "RSA_MULT_START_REG", addr: Base.RSA + Rsa.MULT_START, words: 1, access: "wo" },
  { name: "RSA_INTERRUPT_REG", addr: Base.RSA + Rsa.INTERRUPT, words: 1, access: "rw" },
  { name: "RSA_CLEAN_REG", addr: Base.RSA + Rsa.CLEAN, words: 1, access: "ro" },
  { name: "EFUSE_BLK0_RDATA3_REG", addr: Base.EFUSE + Efuse.BLK0_RDATA3, words: 1, access: "ro" },
  { name: "EFUSE_BLK0_RDATA5_REG", addr: Base.EFUSE + Efuse.BLK0_RDATA5, words: 1, access: "ro" },
  // Read only here (its header default 0x16042000 is not what revision-3 chips read: bit 31 set, efuse_hal.c).
  { name: "APB_CTRL_DATE_REG", addr: Base.APB_CTRL + ApbCtrl.DATE, words: 1, access: "ro" },
];

/** The row an address falls in, or undefined (the simulator rejects such an access). */
export function registerAt(addr: number): RegisterInfo | undefined {
  for (var i = 0; i < REGISTERS.length; i++) {
    var r = REGISTERS[i]!;
    if (addr >= r.addr && addr < r.addr + 4 * r.words && !(addr & 3)) return r;
  }
  return undefined;
}
