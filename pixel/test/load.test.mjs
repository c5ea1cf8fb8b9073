// The page load: no storage work until idle time, yet every event gets the right identity.
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { IDLE } from '../src/session.js'
import { makePage, settle, T0, TOKEN, useFakeTime } from './helpers.mjs'

/** Counts every localStorage and document.cookie access of page `p` (reads and writes). */
const spy = (p) => {
  const log = []
  const S = p.w.Storage.prototype
  for (const k of ['getItem', 'setItem', 'removeItem']) {
    const orig = S[k]
    S[k] = function (...a) {
      log.push(k + ' ' + a[0])
      return orig.apply(this, a)
    }
  }
  const D = p.w.Document.prototype
  const c = Object.getOwnPropertyDescriptor(D, 'cookie')
  Object.defineProperty(D, 'cookie', {
    configurable: true,
    get() {
      log.push('cookie get')
      return c.get.call(this)
    },
    set(v) {
      log.push('cookie set')
      c.set.call(this, v)
    },
  })
  return log
}

const STORED = { vid: 'storedVid1234567', i: 'zzzzzzzz', visit: 1, seen: T0 - 60000, sid: 'oldSid' }
const remember = (p, st = STORED) => p.w.localStorage.setItem('oie_id', JSON.stringify(st))
const beacon = async (p) => {
  const r = p.sent.find((x) => x.via == 'beacon')
  return JSON.parse(r.body)
}

describe('page load', () => {
  useFakeTime()

  it('touches neither localStorage nor the cookie during start, only at idle time', () => {
    const p = makePage({ url: `https://site.test/p?x=1&i=ab3f9k2q&oie_t=${TOKEN}` })
    remember(p)
    const log = spy(p)
    p.start()
    p.w.oie('track', 'early')
    assert.deepEqual(log, [])
    assert.equal(typeof p.w.oie, 'function')
    assert.equal(p.w.location.search, '?x=1', 'i and oie_t leave the address bar at once')
    assert.equal(p.sent.length, 0)

    mock.timers.tick(5000)
    assert.deepEqual(log, [], 'storage waits for idle time after the load event')

    p.idle()
    assert.ok(log.includes('getItem oie_optout'))
    assert.ok(log.includes('getItem oie_id'))
    assert.ok(log.includes('setItem oie_id'))
    assert.ok(!log.includes('cookie get'), 'the cookie is only read when localStorage has nothing')
    const st = JSON.parse(p.w.localStorage.getItem('oie_id'))
    assert.equal(st.vid, 'tokVid12345', "the token's vid wins although the URL was cleaned before")
    assert.equal(st.i, 'ab3f9k2q')
    assert.equal(st.tok, TOKEN)
  })

  it('touches no storage during start under data-consent=required either', () => {
    const p = makePage({ attrs: { 'data-consent': 'required' } })
    const log = spy(p)
    p.start()
    p.w.oie('consent', true) // a consent manager restoring an earlier choice during the load
    assert.deepEqual(log, [])
    p.idle()
    assert.ok(log.includes('setItem oie_id'))
    assert.equal(p.sent.length, 1, 'consent sends what waited once the storage is read')
  })

  it('a first visit reads and writes no cookie while localStorage works; events write localStorage only', () => {
    const p = makePage({ url: 'https://site.test/p?i=ab3f9k2q' })
    const log = spy(p)
    p.start()
    p.idle()
    for (let k = 0; k < 3; k++) p.w.oie('track', 'e' + k)
    assert.ok(!log.includes('cookie get'), 'localStorage works, so its emptiness is the answer')
    assert.ok(!log.includes('cookie set'), 'the cookie is only the store when localStorage does not work')
    assert.equal(log.filter((x) => x == 'setItem oie_id').length, 4, 'the identity and each later event')
    assert.ok(!log.includes('removeItem oie_retry'), 'no retry batches kept: nothing to rewrite')
    assert.equal(p.d.cookie, '')
  })

  it('keeps the identity in the cookie on every event when localStorage does not work', () => {
    const p = makePage()
    Object.defineProperty(p.w, 'localStorage', {
      get() {
        throw new p.w.DOMException('denied', 'SecurityError')
      },
    })
    const log = spy(p)
    p.start()
    p.idle()
    p.w.oie('track', 'a')
    assert.equal(log.filter((x) => x == 'cookie set').length, 2)
    const st = JSON.parse(decodeURIComponent(p.d.cookie.match(/oie_id=([^;]*)/)[1]))
    assert.equal(st.seen, T0 + 1)
  })

  it('a pagehide before idle time reads the storage at once and sends a correct batch', async () => {
    const p = makePage({ url: 'https://site.test/p?x=1&i=ab3f9k2q' })
    remember(p, { ...STORED, seen: T0 - IDLE - 1 })
    p.start()
    p.w.oie('track', 'early', { a: 1 })
    p.w.dispatchEvent(new p.w.Event('pagehide'))
    const body = await beacon(p)
    assert.equal(body.vid, 'storedVid1234567')
    assert.equal(body.i, 'ab3f9k2q')
    assert.equal(body.tok, null)
    assert.notEqual(body.sid, 'oldSid')
    assert.equal(body.ctx.visit, 2)
    assert.deepEqual(
      body.events.map((e) => e.type),
      ['return_visit', 'pageview', 'custom'],
    )
    assert.deepEqual(body.events[0].props, { visit: 2, last_seen_ms: T0 - IDLE - 1 })
    for (const e of body.events) {
      assert.deepEqual(Object.keys(e), ['id', 'type', 'ts', 'url', 'props'])
      assert.match(e.id, /^[0-9A-Za-z]{16}$/)
    }
    assert.equal(new Set(body.events.map((e) => e.id)).size, 3)
    assert.equal(body.events[0].ts, T0)
    assert.equal(body.events[0].url, 'https://site.test/p?x=1')
    const st = JSON.parse(p.w.localStorage.getItem('oie_id'))
    assert.deepEqual([st.sid, st.visit, st.seen, st.i], [body.sid, 2, T0, 'ab3f9k2q'])
    assert.equal(p.d.cookie, '')
  })

  it('a hidden page before idle time sends with the stored session', async () => {
    const p = makePage()
    remember(p)
    p.start()
    p.hide()
    const body = await beacon(p)
    assert.deepEqual([body.vid, body.i, body.sid, body.ctx.visit], ['storedVid1234567', 'zzzzzzzz', 'oldSid', 1])
    assert.deepEqual(
      body.events.map((e) => e.type),
      ['pageview', 'visibility'],
    )
  })

  it('events queued before idle time join the stored session without return_visit', async () => {
    const p = makePage()
    remember(p)
    p.start()
    p.w.oie('track', 'a')
    mock.timers.tick(500)
    p.idle()
    p.w.oie('track', 'b')
    mock.timers.tick(10000)
    await settle()
    const bodies = await p.bodies()
    assert.deepEqual(
      bodies.map((b) => [b.sid, b.events.map((e) => e.type)]),
      [
        ['oldSid', ['pageview', 'custom']],
        ['oldSid', ['custom']],
      ],
      'what waited goes at idle time, a later event after 10 s',
    )
    assert.equal(JSON.parse(p.w.localStorage.getItem('oie_id')).seen, T0 + 501)
  })

  it('a return visit found at idle time precedes the first event and is sent with it', async () => {
    const p = makePage()
    remember(p, { ...STORED, seen: T0 - 2 * IDLE })
    p.start()
    mock.timers.tick(300)
    p.idle()
    mock.timers.tick(10000)
    const [body] = await p.bodies()
    assert.deepEqual(
      body.events.map((e) => [e.type, e.ts]),
      [
        ['return_visit', T0],
        ['pageview', T0],
      ],
    )
    assert.equal(body.ctx.visit, 2)
  })

  it('five events before idle time are sent at once, with the stored identity', async () => {
    const p = makePage()
    remember(p)
    p.start()
    for (let k = 0; k < 4; k++) p.w.oie('track', 'e' + k)
    assert.equal(p.sent.length, 1)
    const [body] = await p.bodies()
    assert.deepEqual([body.vid, body.sid, body.events.length], ['storedVid1234567', 'oldSid', 5])
  })

  it('an opt-out read at idle time drops what waited: nothing is sent or stored', () => {
    const p = makePage({ url: 'https://site.test/?i=ab3f9k2q' })
    p.w.localStorage.setItem('oie_optout', '1')
    const api = (p.start(), p.w.oie)
    api('track', 'x')
    p.hide() // before idle time: the opt-out is read before anything is sent
    p.idle()
    api('consent', true)
    api('track', 'y')
    mock.timers.tick(60000)
    p.w.dispatchEvent(new p.w.Event('pagehide'))
    assert.equal(p.sent.length, 0)
    assert.equal(p.d.cookie, '')
    assert.equal(p.w.localStorage.getItem('oie_id'), null)
  })
})
