// Bundles the JDM editor entry with esbuild into web/static/build/jdm-editor/ (git-ignored; run by
// `make assets`). Everything comes from node_modules, installed from package-lock.json.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..", "..", "..");
const outdir = join(here, "..", "..", "static", "build", "jdm-editor");
const require = createRequire(join(root, "package.json"));
const monacoApi = require.resolve("monaco-editor/esm/vs/editor/editor.api.js");

// The editor imports one enum from "monaco-editor" (whose main module pulls in every language):
// the editor API alone is enough, with the TypeScript language the function node uses.
const monacoApiOnly = {
  name: "monaco-api-only",
  setup(b) {
    b.onResolve({ filter: /^monaco-editor$/ }, () => ({ path: monacoApi }));
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: {
    editor: join(here, "editor.jsx"),
    "editor.worker": require.resolve("monaco-editor/esm/vs/editor/editor.worker.js"),
    "ts.worker": require.resolve("monaco-editor/esm/vs/language/typescript/ts.worker.js"),
  },
  bundle: true,
  format: "esm",
  minify: true,
  jsx: "automatic",
  outdir,
  loader: { ".ttf": "file" },
  define: { "process.env.NODE_ENV": '"production"' },
  plugins: [monacoApiOnly],
  logLevel: "warning",
  nodePaths: [join(root, "node_modules")],
});
// zen-engine-wasm finds its module beside the bundle (new URL(..., import.meta.url)).
copyFileSync(require.resolve("@gorules/zen-engine-wasm/dist/zen_engine_wasm_bg.wasm"), join(outdir, "zen_engine_wasm_bg.wasm"));
