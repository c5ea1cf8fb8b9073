import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { makePage, T0, TOKEN, useFakeTime } from './helpers.mjs'

const stored = (p) => [p.w.localStorage.length, p.d.cookie]

describe('privacy', () => {
  useFakeTime()

  it('with data-consent=required stores and sends nothing until consent, then only what follows it', async () => {
    const p = makePage({
      url: `https://site.test/?i=ab3f9k2q&oie_t=${TOKEN}`,
      attrs: { 'data-consent': 'required' },
    })
    p.start()
    assert.equal(p.w.location.search, '', 'the address bar is clean before any consent')
    p.w.oie('track', 'early')
    p.idle() // the page loads; the storage waits for consent
    mock.timers.tick(60000)
    p.hide()
    assert.deepEqual(stored(p), [0, ''])
    assert.equal(p.sent.length, 0)

    p.w.oie('consent', true)
    p.idle()
    assert.equal(JSON.parse(p.w.localStorage.getItem('oie_id')).i, 'ab3f9k2q')
    const types = (await p.events()).map((e) => e.type)
    assert.deepEqual(types, ['pageview'], 'what was measured before consent is never sent')
  })

  it('runs queued consent calls made before the script loaded', async () => {
    const p = makePage({ attrs: { 'data-consent': 'required' } })
    p.w.oie = function () {
      ;(p.w.oie.q = p.w.oie.q || []).push(arguments)
    }
    p.w.oie('consent', true)
    p.w.oie('track', 'signup', { plan: 'pro' })
    p.start()
    p.idle()
    const events = await p.events()
    assert.deepEqual(
      events.map((e) => e.type),
      ['pageview', 'custom'],
    )
    assert.deepEqual(events[1].props, { name: 'signup', plan: 'pro' })
  })

  it("oie('consent', false) clears the queue and storage and stops collection", () => {
    const p = makePage()
    p.start()
    p.w.oie('track', 'x')
    p.w.oie('consent', false)
    p.w.oie('track', 'y')
    mock.timers.tick(60000)
    p.hide()
    assert.equal(p.sent.length, 0)
    assert.deepEqual(stored(p), [0, ''])
  })

  const ignored = {
    'Global Privacy Control': (p) =>
      Object.defineProperty(p.w.navigator, 'globalPrivacyControl', { value: true }),
    'automation without data-allow-automation': (p) =>
      Object.defineProperty(p.w.navigator, 'webdriver', { value: true }),
    'an explicit opt-out': (p) => p.w.localStorage.setItem('oie_optout', '1'),
  }
  for (const [why, arrange] of Object.entries(ignored)) {
    it(`ignores the visit on ${why}`, () => {
      const p = makePage({ url: 'https://site.test/?i=ab3f9k2q' })
      arrange(p)
      p.start()
      p.w.oie('track', 'x')
      mock.timers.tick(60000)
      p.hide()
      assert.equal(p.sent.length, 0)
      assert.equal(p.d.cookie, '')
      assert.equal(p.w.localStorage.getItem('oie_id'), null)
    })
  }

  it('tracks automation when data-allow-automation is present', () => {
    const p = makePage({ attrs: { 'data-allow-automation': '' } })
    Object.defineProperty(p.w.navigator, 'webdriver', { value: true })
    p.start()
    p.idle()
    assert.equal(p.sent.length, 1)
  })

  it('never breaks the host page when storage throws', () => {
    const p = makePage()
    Object.defineProperty(p.w, 'localStorage', {
      get() {
        throw new Error('denied')
      },
    })
    p.start()
    p.idle()
    assert.equal(p.sent.length, 1)
  })
})
