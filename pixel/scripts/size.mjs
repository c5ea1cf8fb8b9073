// Prints raw (unminified bundle), min and gzip -9 bytes of dist/oie.js and dist/oie-p.js as JSON.
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { options } from './build.mjs'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))

/** Gzip budgets in bytes (the product issue's hard limits). */
export const BUDGETS = { 'oie.js': 4096, 'oie-p.js': 1536 }

/** Sizes of the built files in dist/ (run `npm run build` first). */
export const sizes = async () => {
  const raw = await build({ ...options, write: false, outdir: 'raw' })
  const out = {}
  for (const name of Object.keys(BUDGETS)) {
    const min = readFileSync(dist + name)
    const src = raw.outputFiles.find((f) => f.path.endsWith('/' + name))
    out[name] = {
      raw: src.contents.length,
      min: min.length,
      gzip: gzipSync(min, { level: 9 }).length,
      budget: BUDGETS[name],
    }
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await sizes(), null, 2))
}
