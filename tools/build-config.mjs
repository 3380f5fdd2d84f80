// Turns sdkconfig + boards/<board>.json into the virtual module "build-config" the firmware imports.
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { readConfig, root } from "./config.mjs";

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
  return {
    board: {
      id: b.id, crypto: b.crypto, rngReg: parseInt(b.rngRegister, 16), macSource: b.macSource, espruino: b.espruino,
      apsta: b.apsta, bleWriteAck: b.bleWriteAck, mpi: b.mpi || "",
    },
    transport: c.PROV_TRANSPORT,
    softapPassword: c.PROV_TRANSPORT === "ble" ? "" : c.PROV_SOFTAP_PASSWORD,
    // The page and its DNS exist only with the SoftAP (config/schema.json dependsOn).
    webPortal: c.PROV_TRANSPORT !== "ble" && c.PROV_WEB_PORTAL,
    captiveDns: c.PROV_TRANSPORT !== "ble" && c.PROV_WEB_PORTAL && c.PROV_CAPTIVE_DNS,
    portalQr: c.PROV_TRANSPORT !== "ble" && c.PROV_WEB_PORTAL && c.PROV_PORTAL_QR,
    bleMtu: c.PROV_BLE_MTU,
    secVer,
    pop: secVer === 1 ? c.PROV_POP : "",
    popMode: secVer === 1 ? c.PROV_POP_MODE : "fixed",
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
    // x25519Loops, webPortal and captiveDns also as named constants, which rollup folds: the code not chosen is
    // left out of the bundle.
    load: (id) => {
      if (id !== "\0build-config") return null;
      const c = buildConfig(opts);
      return `export default ${JSON.stringify(c)};\nexport const X25519_LOOPS = ${c.x25519Loops};\n` +
        `export const WEB_PORTAL = ${c.webPortal};\nexport const CAPTIVE_DNS = ${c.captiveDns};\n` +
        `export const STA_FALLBACK = ${c.staFallbackMs > 0};`;
    },
  };
}
