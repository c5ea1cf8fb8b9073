// Size is the first design goal: fails when a built file exceeds its gzip -9 budget.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { BUDGETS, sizes } from '../scripts/size.mjs'

it('dist/oie.js and dist/oie-p.js stay within their gzip budgets', async () => {
  const got = await sizes()
  for (const [name, budget] of Object.entries(BUDGETS)) {
    assert.ok(got[name].gzip <= budget, `${name}: ${got[name].gzip} B gzip > ${budget} B budget`)
  }
})
