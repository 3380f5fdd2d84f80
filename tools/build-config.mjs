// Turns sdkconfig + boards/<board>.json into the virtual module "build-config" the firmware imports.
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { readConfig, root } from "./config.mjs";
import { makeVerifier } from "./srp.mjs";

const LEVELS = { none: 0, error: 1, warn: 2, info: 3, debug: 4 };

export class BoardError extends Error {}

/** Loads and validates boards/<id>.json against boards/board.schema.json. */
export function readBoard(id) {
  const dir = path.join(root, "boards");
  const file = path.join(dir, `${id}.json`);
  if (!/^[a-z0-9-]+$/.test(id) || !fs.existsSync(file)) {
    const known = fs.readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "board.schema.json").map((f) => f.slice(0, -5));
    throw new BoardError(`unknown board '${id}': known boards are ${known.join(", ")}`);
  }
  let board;
  try {
    board = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new BoardError(`boards/${id}.json: not valid JSON (${e.message})`);
  }
  const schema = JSON.parse(fs.readFileSync(path.join(dir, "board.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true });
  if (!ajv.validate(schema, board)) {
    throw new BoardError(`boards/${id}.json: ` + ajv.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; "));
  }
  return board;
}

/** The values baked into the firmware. */
export function buildConfig({ board = "esp32", config = "sdkconfig" } = {}) {
  const b = readBoard(board);
  const c = readConfig(path.resolve(root, config));
  const secVer = Number(c.PROV_SECURITY_VERSION);
  const portal = c.PROV_TRANSPORT !== "ble" && secVer !== 2;
  const fixedPop = secVer === 2 && c.PROV_POP_MODE === "fixed";
  if (secVer === 2) {
    // The 3072-bit arithmetic runs on the classic ESP32's RSA block only (src/crypto/esp32-bignum.ts).
    if (!b.mpi) throw new BoardError(`Security 2 needs the classic ESP32's RSA accelerator, which boards/${b.id}.json has not: use CONFIG_PROV_SECURITY_VERSION=1 on this board`);
    if (fixedPop && !c.PROV_POP) throw new BoardError("Security 2 needs a password: CONFIG_PROV_POP is empty (or use CONFIG_PROV_POP_MODE=random)");
  }
  return {
    board: {
      id: b.id, crypto: b.crypto, rngReg: parseInt(b.rngRegister, 16), macSource: b.macSource, espruino: b.espruino,
      apsta: b.apsta, bleWriteAck: b.bleWriteAck, mpi: b.mpi || "",
    },
    transport: c.PROV_TRANSPORT,
    softapPassword: c.PROV_TRANSPORT === "ble" ? "" : c.PROV_SOFTAP_PASSWORD,
    // The page and its DNS exist only with the SoftAP (config/schema.json dependsOn).
    // ... and speaks Security 0/1 only (web/).
    webPortal: portal && c.PROV_WEB_PORTAL,
    captiveDns: portal && c.PROV_WEB_PORTAL && c.PROV_CAPTIVE_DNS,
    portalQr: portal && c.PROV_WEB_PORTAL && c.PROV_PORTAL_QR,
    bleMtu: c.PROV_BLE_MTU,
    secVer,
    // Security 2 with a fixed password bakes in its salt and verifier, made here, and never the password.
    pop: secVer === 1 ? c.PROV_POP : "",
    popMode: secVer !== 0 ? c.PROV_POP_MODE : "fixed",
    sec2User: secVer === 2 ? c.PROV_SEC2_USERNAME : "",
    sec2: fixedPop ? makeVerifier(c.PROV_SEC2_USERNAME, c.PROV_POP) : undefined,
    resetGpio: c.PROV_RESET_GPIO,
    resetHoldMs: c.PROV_RESET_HOLD_S * 1000,
    staFallbackMs: c.PROV_STA_FALLBACK_S * 1000,
    namePrefix: c.PROV_DEVICE_PREFIX,
    resetProvisioned: c.PROV_RESET_PROVISIONED,
    autoStopMs: c.PROV_AUTOSTOP_S * 1000,
    versionStyle: c.PROV_VERSION_STYLE,
    versionString: c.PROV_VERSION_STRING,
    logLevel: LEVELS[c.LOG_LEVEL],
    logColors: c.LOG_COLORS,
    x25519Slice: c.PROV_X25519_SLICE,
    // auto: loops where the RSA accelerator does X25519 and the JS one is only its fallback (config/schema.json).
    x25519Loops: c.PROV_X25519_CODE === "loops" || (c.PROV_X25519_CODE === "auto" && !!b.mpi),
  };
}

export function configModule(opts) {
  return {
    name: "build-config",
    resolveId: (id) => (id === "build-config" ? "\0build-config" : null),
    // x25519Loops, webPortal, captiveDns and secVer also as named constants, which rollup folds: the code not chosen is
    // left out of the bundle.
    load: (id) => {
      if (id !== "\0build-config") return null;
      // Security 2's salt and verifier as a function's return value: its strings stay in the bundle's code (in flash
      // on the board) instead of living in RAM in the config object for as long as the board runs.
      const { sec2, ...c } = buildConfig(opts);
      return `export default ${JSON.stringify(c)};\nexport function SEC2_VERIFIER() { return ${JSON.stringify(sec2 ?? null)}; }\n` +
        `export const X25519_LOOPS = ${c.x25519Loops};\n` +
        `export const WEB_PORTAL = ${c.webPortal};\nexport const CAPTIVE_DNS = ${c.captiveDns};\n` +
        `export const STA_FALLBACK = ${c.staFallbackMs > 0};\nexport const SEC_VER = ${c.secVer};`;
    },
  };
}
