// Builds web/dist/ from the sources: the page scripts, the SDK, the
// AudioWorklet processors and the service worker (esbuild), the pages and
// static files, and from node_modules the WebAssembly Opus decoder and
// uPlot's stylesheet. The
// output is byte-identical from run to run (no timestamps, no random names),
// so CI can rebuild it and compare with the committed copy.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const common = {
  bundle: true,
  minify: true,
  target: 'es2022',
  charset: 'utf8',
  legalComments: 'eof',
  logLevel: 'warning',
  absWorkingDir: root,
};

// Pages load the SDK bundle (dist/clubvoice.js) instead of carrying a copy:
// one download, and its import.meta.url finds the worklets and the decoder.
const sdkExternal = {
  name: 'sdk-external',
  setup(build) {
    build.onResolve({ filter: /\/sdk\/clubvoice\.js$/ }, () => ({ path: './clubvoice.js', external: true }));
  },
};

async function filesUnder(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out.sort();
}

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'vendor'), { recursive: true });

await esbuild.build({ ...common, format: 'esm', entryPoints: { clubvoice: 'sdk/clubvoice.js' }, outdir: dist });
await esbuild.build({
  ...common,
  format: 'esm',
  entryPoints: { listen: 'app/listen.js', talk: 'app/talk.js', debug: 'app/debug.js' },
  outdir: dist,
  plugins: [sdkExternal],
});
await esbuild.build({
  ...common,
  format: 'esm',
  entryPoints: {
    'worklets/playout_processor': 'sdk/worklets/playout_processor.js',
    'worklets/capture_processor': 'sdk/worklets/capture_processor.js',
  },
  outdir: dist,
});
// The room worker is a classic script: it loads the WebAssembly decoder
// with importScripts only when it needs it.
await esbuild.build({ ...common, format: 'iife', entryPoints: { room_worker: 'sdk/worker/room_worker.js' }, outdir: dist });

for (const dir of ['pages', 'static']) {
  for (const file of await filesUnder(join(root, dir))) await copyFile(file, join(dist, relative(join(root, dir), file)));
}
const opus = join(root, 'node_modules', 'opus-decoder');
await copyFile(join(opus, 'dist', 'opus-decoder.min.js'), join(dist, 'vendor', 'opus-decoder.min.js'));
await copyFile(join(opus, 'dist', 'opus-decoder.min.js.map'), join(dist, 'vendor', 'opus-decoder.min.js.map'));
// uPlot's script is bundled into debug.js; its stylesheet is linked by the
// debug page only, so the other pages do not load it.
await copyFile(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(dist, 'vendor', 'uPlot.min.css'));

// The service worker caches every file it is built with, under a version
// that changes exactly when one of them does. Pages are cached under the
// names the daemon serves them by.
const hash = createHash('sha256');
const files = [];
for (const file of await filesUnder(dist)) {
  const name = relative(dist, file).split('\\').join('/');
  hash.update(name).update('\0').update(await readFile(file));
  if (name.endsWith('.map')) continue;
  const page = { 'index.html': './', 'talk.html': 'talk', 'debug.html': 'debug' }[name];
  files.push(page ?? name);
}
await esbuild.build({
  ...common,
  format: 'iife',
  entryPoints: { sw: 'app/sw.js' },
  outdir: dist,
  define: { SW_VERSION: JSON.stringify(hash.digest('hex').slice(0, 16)), SW_FILES: JSON.stringify(files.sort()) },
});
