// Rollup bundles src/main.ts into ONE ES5 file for Espruino. Used by tools/build.mjs, which bakes the
// configuration in (virtual module "build-config"), minifies with terser (ecma 5) and runs the
// Espruino-subset check. `npx rollup -c` alone gives the unminified bundle with default config.
import typescript from "@rollup/plugin-typescript";
import { configModule } from "./tools/build-config.mjs";

import path from "node:path";

/** --app FILE: the application module bundled in place of src/app/app.ts (it exports app(prov)). */
function appModule(app) {
  const own = path.resolve("src/app/app.ts");
  return {
    name: "app-module",
    async resolveId(id, importer) {
      if (!app || !importer || !/(^|\/)app\/app$/.test(id)) return null;
      const r = await this.resolve(id, importer, { skipSelf: true });
      return r && r.id === own ? path.resolve(app) : null;
    },
  };
}

export function firmwareConfig({ board = "esp32", config = "sdkconfig", app } = {}) {
  return {
    input: "src/main.ts",
    // Rollup emits modules in dependency order with declarations before use: Espruino does not hoist.
    output: { file: "dist/firmware.debug.js", format: "iife", strict: false, freeze: false, generatedCode: "es5" },
    treeshake: { moduleSideEffects: false },
    plugins: [
      configModule({ board, config }),
      appModule(app),
      // TypeScript 5.9 is the last TypeScript that emits ES5 (7 dropped it); helpers are off (noEmitHelpers)
      // and the subset check rejects any that would be needed.
      typescript({ tsconfig: "./tsconfig.json", noEmitOnError: true, outputToFilesystem: false }),
    ],
    onwarn(w, warn) {
      if (w.code === "CIRCULAR_DEPENDENCY") throw new Error("circular import (breaks declaration order on Espruino): " + w.message);
      warn(w);
    },
  };
}

export default firmwareConfig();
