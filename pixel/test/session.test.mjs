import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { IDLE, touch } from '../src/session.js'
import { makePage, settle, T0, useFakeTime } from './helpers.mjs'

describe('touch', () => {
  it('starts the first session at visit 1', () => {
    const st = {}
    assert.equal(touch(st, T0), -1)
    assert.equal(st.visit, 1)
    assert.match(st.sid, /^[0-9A-Za-z]{16}$/)
  })
  it('keeps the session while activity is at most 30 minutes apart', () => {
    const st = {}
    touch(st, T0)
    const sid = st.sid
    assert.equal(touch(st, T0 + IDLE), 0)
    assert.equal(touch(st, T0 + 2 * IDLE), 0)
    assert.equal(st.sid, sid)
    assert.equal(st.visit, 1)
  })
  it('starts a new session after 30 idle minutes and reports the last-seen time', () => {
    const st = {}
    touch(st, T0)
    const sid = st.sid
    assert.equal(touch(st, T0 + IDLE + 1), T0)
    assert.notEqual(st.sid, sid)
    assert.equal(st.visit, 2)
  })
})

describe('sessions in the page', () => {
  useFakeTime()

  it('a reload after 31 idle minutes sends return_visit in a new session', async () => {
    const first = makePage({ url: 'https://site.test/?i=ab3f9k2q' })
    first.start()
    first.idle()
    const [a] = await first.bodies()

    mock.timers.tick(31 * 60 * 1000)
    const again = makePage({ url: 'https://site.test/pricing' })
    again.w.localStorage.setItem('oie_id', first.w.localStorage.getItem('oie_id'))
    again.start()
    again.idle()
    const [b] = await again.bodies()
    assert.notEqual(b.sid, a.sid)
    assert.equal(b.vid, a.vid)
    assert.equal(b.i, 'ab3f9k2q')
    assert.equal(b.ctx.visit, 2)
    assert.deepEqual(
      b.events.map((e) => e.type),
      ['return_visit', 'pageview'],
    )
    assert.deepEqual(b.events[0].props, { visit: 2, last_seen_ms: T0 })
  })

  it('a reload within 30 minutes continues the session without return_visit', async () => {
    const first = makePage()
    first.start()
    first.idle()
    const [a] = await first.bodies()
    mock.timers.tick(20 * 60 * 1000)
    const again = makePage({ url: 'https://site.test/next' })
    again.w.localStorage.setItem('oie_id', first.w.localStorage.getItem('oie_id'))
    again.start()
    again.idle()
    await settle()
    const [b] = await again.bodies()
    assert.equal(b.sid, a.sid)
    assert.deepEqual(
      b.events.map((e) => e.type),
      ['pageview'],
    )
  })
})
