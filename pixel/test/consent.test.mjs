// Consent that holds: nothing measured before consent is ever sent, a refusal resets every meter
// and marker, acceptance starts the pageview afresh, and the address bar is clean from the load.
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { run } from '../src/personalize.js'
import { makePage, T0, TOKEN, useFakeTime } from './helpers.mjs'

const LANDING = `https://site.test/p?x=1&i=ab3f9k2q&oie_t=${TOKEN}`
const CLEAN = 'https://site.test/p?x=1'
const REQUIRED = { 'data-consent': 'required' }
const HTML = `<form id="f" name="f"><input type="email" name="email" value="ada@example.com"></form>
  <video src="https://cdn.test/v.webm"></video>`

const stored = (p) => [p.w.localStorage.length, p.d.cookie]
const types = (events) => events.map((e) => e.type)
const of = (events, type) => events.filter((e) => e.type == type)

/** A 4000 px page (900 px viewport: 22.5 % at the top) with a form and an 8 s video; `calls` are
 *  queued before the script loads. */
const open = ({ attrs = REQUIRED, url = LANDING, calls = [] } = {}) => {
  const p = makePage({ url, attrs, html: HTML })
  Object.defineProperty(p.d.documentElement, 'scrollHeight', { value: 4000 })
  p.w.innerHeight = 900
  const v = p.d.querySelector('video')
  p.t = 0
  Object.defineProperty(v, 'duration', { value: 8 })
  Object.defineProperty(v, 'currentTime', { get: () => p.t })
  if (calls.length) {
    p.w.oie = function () {
      ;(p.w.oie.q = p.w.oie.q || []).push(arguments)
    }
    for (const c of calls) p.w.oie(...c)
  }
  p.start()
  return p
}

const scrollTo = (p, y) => {
  p.w.scrollY = y
  p.d.dispatchEvent(new p.w.Event('scroll'))
  mock.timers.tick(100)
}

/** Interactions every second for `ms`: each one keeps the active-time meter running. */
const busy = (p, ms) => {
  for (let t = 0; t < ms; t += 1000) {
    p.w.dispatchEvent(new p.w.Event('keydown'))
    mock.timers.tick(1000)
  }
}

/** Everything a visitor does that the pixel measures: scroll to the end, fill and send the
 *  form, watch the video to the end, a custom event and `ms` of activity. */
const visit = (p, ms = 3000) => {
  scrollTo(p, 0)
  scrollTo(p, 3100)
  const f = p.d.getElementById('f')
  f.querySelector('input').dispatchEvent(new p.w.Event('input', { bubbles: true }))
  f.dispatchEvent(new p.w.Event('submit', { bubbles: true, cancelable: true }))
  const v = p.d.querySelector('video')
  p.t = 0
  v.dispatchEvent(new p.w.Event('play'))
  for (p.t = 1; p.t <= 8; p.t++) v.dispatchEvent(new p.w.Event('timeupdate'))
  v.dispatchEvent(new p.w.Event('ended'))
  p.w.oie('track', 'signup')
  busy(p, ms)
}

/** Consent given at the current (fake) time; returns that time. Storage waits for idle time. */
const accept = (p) => {
  const at = Date.now()
  p.w.oie('consent', true)
  p.idle()
  return at
}

/** What a full, consented visit sends after acceptance at `at` (then the page hides). */
const assertConsentedVisit = async (p, at) => {
  const events = await p.events()
  assert.equal(events[0].type, 'pageview', 'acceptance sends the pageview first')
  assert.deepEqual(events[0].props, { title: 'Home', referrer: 'https://ref.test/', spa: false })
  assert.equal(events[0].url, CLEAN)
  assert.equal(of(events, 'pageview').length, 1)
  for (const e of events) assert.ok(e.ts >= at, `${e.type} at ${e.ts - T0} ms, consent at ${at - T0} ms`)
  assert.deepEqual(
    of(events, 'scroll').map((e) => e.props.depth),
    [25, 50, 75, 90, 100],
  )
  assert.equal(of(events, 'form_start').length, 1)
  assert.equal(of(events, 'form_submit').length, 1)
  assert.deepEqual(
    of(events, 'video').map((e) => [e.props.action, e.props.pct]),
    [['play', undefined], ['progress', 25], ['progress', 50], ['progress', 75], ['complete', undefined]],
  )
  assert.equal(of(events, 'custom').length, 1)
  return events
}

describe('consent', () => {
  useFakeTime()

  const states = {
    'consent pending': {},
    'consent refused during the load': { calls: [['consent', false]] },
    'consent given during the load': { calls: [['consent', true]] },
    'consent not required': { attrs: {} },
    'Global Privacy Control': { gpc: true },
  }
  for (const [state, { gpc, ...how }] of Object.entries(states)) {
    it(`cleans the address bar at load with ${state}`, () => {
      const p = makePage({ url: LANDING + '#top', attrs: how.attrs || REQUIRED })
      gpc && Object.defineProperty(p.w.navigator, 'globalPrivacyControl', { value: true })
      p.w.oie = function () {
        ;(p.w.oie.q = p.w.oie.q || []).push(arguments)
      }
      for (const c of how.calls || []) p.w.oie(...c)
      p.start()
      assert.equal(p.w.location.href, CLEAN + '#top')
    })
  }

  it('never stores nor sends anything when consent never comes', async () => {
    const p = open()
    p.idle()
    visit(p, 20000)
    mock.timers.tick(60000)
    p.hide()
    p.w.dispatchEvent(new p.w.Event('pagehide'))
    assert.equal(p.sent.length, 0)
    assert.deepEqual(stored(p), [0, ''])
    assert.equal(p.w.location.href, CLEAN)
  })

  it('on acceptance sends a fresh pageview and nothing measured while consent was pending', async () => {
    const p = open()
    p.idle()
    visit(p, 20000)
    p.hide()
    p.hide('visible')
    scrollTo(p, 0)
    const at = accept(p)
    const [first] = await p.bodies()
    assert.deepEqual(types(first.events), ['pageview'], 'nothing that waited is sent')
    assert.deepEqual([first.vid, first.i, first.tok], ['tokVid12345', 'ab3f9k2q', TOKEN])
    assert.equal(JSON.parse(p.w.localStorage.getItem('oie_id')).tok, TOKEN, 'stored once consent is given')
    mock.timers.tick(1000)
    visit(p)
    p.hide()
    const events = await assertConsentedVisit(p, at)
    assert.deepEqual(
      of(events, 'active_time').map((e) => e.props.ms),
      [3200],
      'only the activity after acceptance counts: its first interaction (+1 s) to the hide (+4.2 s)',
    )
  })

  it('a refusal resets active time: only consented time is ever sent', async () => {
    const p = open({ attrs: {} })
    p.idle()
    busy(p, 10000)
    p.w.oie('consent', false)
    busy(p, 12000)
    accept(p)
    busy(p, 3000)
    p.hide()
    const ms = of(await p.events(), 'active_time').map((e) => e.props.ms)
    assert.deepEqual(ms, [3000])
  })

  it('a refusal resets scroll, form and video markers: reached again after acceptance, they are sent', async () => {
    const p = open()
    p.idle()
    visit(p)
    p.w.oie('consent', false)
    visit(p)
    scrollTo(p, 0)
    const at = accept(p)
    mock.timers.tick(1000)
    visit(p)
    p.hide()
    await assertConsentedVisit(p, at)
  })

  it('sends nothing after a second refusal and forgets the identity', async () => {
    const p = open()
    p.idle()
    p.w.oie('consent', false)
    accept(p)
    visit(p)
    p.hide()
    const sent = p.sent.length
    assert.ok(sent > 0)
    p.hide('visible')
    p.w.oie('consent', false)
    assert.deepEqual(stored(p), [0, ''])
    visit(p, 20000)
    p.hide()
    p.w.dispatchEvent(new p.w.Event('pagehide'))
    mock.timers.tick(60000)
    assert.equal(p.sent.length, sent)
    assert.deepEqual(stored(p), [0, ''])
  })

  it('a refusal forgets the identity held in memory too: a later acceptance starts a new visitor', async () => {
    const p = open({ attrs: {}, url: 'https://site.test/p?i=ab3f9k2q' })
    p.w.localStorage.setItem('oie_id', JSON.stringify({ vid: 'storedVid1234567', visit: 3, seen: T0, sid: 'oldSid' }))
    p.idle()
    p.w.oie('consent', false)
    accept(p)
    p.hide()
    const bodies = await p.bodies()
    const last = bodies[bodies.length - 1]
    assert.notEqual(last.vid, 'storedVid1234567')
    assert.notEqual(last.sid, 'oldSid')
    assert.equal(last.i, 'ab3f9k2q', "the URL's id waited in memory for consent")
    assert.equal(last.ctx.visit, 1)
  })

  it('repeated consent sends one pageview, whether consent was required or not', async () => {
    for (const attrs of [REQUIRED, {}]) {
      const p = open({ attrs, calls: [['consent', true]] })
      p.w.oie('consent', true)
      p.idle()
      p.w.oie('consent', true)
      p.hide()
      assert.deepEqual(types(await p.events()), ['pageview', 'visibility'])
    }
  })

  it('a rage click or a selection begun before consent is not reported after it', async () => {
    const p = open({ attrs: { ...REQUIRED, 'data-optional': 'rage,selection' } })
    p.idle()
    for (let k = 0; k < 4; k++) {
      p.d.body.dispatchEvent(new p.w.MouseEvent('click', { bubbles: true, clientX: 10, clientY: 20 }))
      mock.timers.tick(100)
    }
    p.w.getSelection().selectAllChildren(p.d.body)
    let changes = 0
    p.d.addEventListener('selectionchange', () => changes++)
    mock.timers.tick(1) // jsdom fires selectionchange as a task
    assert.equal(changes, 1)
    accept(p)
    mock.timers.tick(2000)
    p.hide()
    assert.deepEqual(types(await p.events()), ['pageview', 'visibility'])
  })

  it("hands the URL's token to oie-p.js only once consent is given", () => {
    const p = open()
    const tag = p.d.createElement('script')
    tag.src = 'https://api.test/static/oie-p.js'
    tag.dataset.tenant = 'acme' // the personalization tag without data-consent
    run(p.w, tag)
    assert.equal(p.sent.filter((r) => r.to.includes('/personalize')).length, 0)
  })
})
