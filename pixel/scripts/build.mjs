// Bundles src/oie.js and src/oie-p.js into minified IIFEs in dist/.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** esbuild options shared by the build and the size report (which also builds unminified). */
export const options = {
  absWorkingDir: root,
  entryPoints: { oie: 'src/oie.js', 'oie-p': 'src/oie-p.js' },
  bundle: true,
  format: 'iife',
  target: 'es2019',
  legalComments: 'none',
  // V8's explicit compile hint: every function of the file is compiled eagerly while the script
  // streams, off the main thread, instead of lazily on first call (about 1 ms of a fresh
  // renderer's main thread for oie.js, measured by tests/bench/bench_pixel.py). Must be the
  // file's first line.
  banner: { js: '//# allFunctionsCalledOnLoad' },
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ ...options, minify: true, outdir: 'dist', logLevel: 'info' })
}
