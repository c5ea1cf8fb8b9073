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
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ ...options, minify: true, outdir: 'dist', logLevel: 'info' })
}
