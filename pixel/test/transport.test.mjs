import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { backoff, bound } from '../src/transport.js'
import { endpoint } from '../src/util.js'
import { makePage, settle, T0, useFakeTime } from './helpers.mjs'

const track = (p, n) => {
  for (let k = 0; k < n; k++) p.w.oie('track', 'e' + k, { k })
}
const retries = (p) => JSON.parse(p.w.localStorage.getItem('oie_retry') || '[]')

describe('bound', () => {
  it('keeps at most 20 batches, dropping the oldest', () => {
    const list = Array.from({ length: 25 }, (_, k) => ['b' + k, 1, 0])
    bound(list)
    assert.equal(list.length, 20)
    assert.equal(list[0][0], 'b5')
  })
  it('keeps at most ~50 KB, dropping the oldest', () => {
    const list = Array.from({ length: 10 }, (_, k) => ['x'.repeat(9000) + k, 1, 0])
    bound(list)
    assert.ok(JSON.stringify(list).length <= 50000)
    assert.equal(list.length, 5)
    assert.ok(list.at(-1)[0].endsWith('9'))
  })
  it('backs off exponentially up to an hour', () => {
    assert.deepEqual([0, 1, 2].map(backoff), [5000, 10000, 20000])
    assert.equal(backoff(30), 3600000)
  })
})

describe('endpoint', () => {
  const tag = (src, attrs = {}) => ({ src, dataset: attrs })
  it("is the origin of the script's src, port kept, path and user info dropped", () => {
    assert.equal(endpoint(tag('https://track.test/static/oie.js?v=2')), 'https://track.test')
    assert.equal(endpoint(tag('http://127.0.0.1:8080/oie.js')), 'http://127.0.0.1:8080')
    assert.equal(endpoint(tag('https://user:pw@track.test/oie.js')), 'https://track.test')
  })
  it('is data-endpoint without its trailing slash when set', () => {
    assert.equal(endpoint(tag('https://track.test/oie.js', { endpoint: 'https://api.test/v1/' })), 'https://api.test/v1')
    assert.equal(endpoint(tag('https://track.test/oie.js', { endpoint: 'https://api.test' })), 'https://api.test')
  })
})

describe('batching', () => {
  useFakeTime()

  it('sends a batch as soon as 5 events are queued', async () => {
    const p = makePage()
    p.start()
    track(p, 3)
    assert.equal(p.sent.length, 0)
    track(p, 1)
    assert.equal(p.sent.length, 1)
    const [req] = p.sent
    assert.equal(req.to, 'https://api.test/track')
    assert.equal(req.via, 'fetch', 'a live page sends by fetch, so a failure is kept for a retry')
    assert.equal(req.init.method, 'POST')
    assert.equal(req.init.keepalive, true)
    // A string body and no header of ours: the browser sends text/plain;charset=UTF-8, no preflight.
    assert.equal(typeof req.body, 'string')
    assert.equal(req.init.headers, undefined)
    const events = await p.events()
    assert.deepEqual(
      events.map((e) => e.type),
      ['pageview', 'custom', 'custom', 'custom', 'custom'],
    )
    assert.deepEqual(events[1].props, { name: 'e0', k: 0 })
    assert.equal(events[0].ts, T0)
  })

  it('sends the pageview at idle time after load, with no timer left to wake an idle page', () => {
    const p = makePage()
    p.start()
    mock.timers.tick(5000)
    assert.equal(p.sent.length, 0, 'nothing is sent before the load event')
    p.idle()
    assert.equal(p.sent.length, 1)
    assert.equal(p.sent[0].via, 'fetch', 'a fetch, so a failure is kept for a retry')
    mock.timers.tick(60000)
    assert.equal(p.sent.length, 1, 'an idle page is not woken again')
  })

  it('sends the pageview after 10 s when the load event never comes', async () => {
    const p = makePage()
    p.start()
    mock.timers.tick(9999)
    assert.equal(p.sent.length, 0)
    mock.timers.tick(1)
    assert.equal(p.sent.length, 1)
    assert.deepEqual(
      (await p.events()).map((e) => e.type),
      ['pageview'],
    )
  })

  it('sends fewer than 5 later events after 10 seconds', async () => {
    const p = makePage()
    p.start()
    p.idle()
    track(p, 2)
    mock.timers.tick(9999)
    assert.equal(p.sent.length, 1)
    mock.timers.tick(1)
    assert.equal(p.sent.length, 2)
    const [, later] = await p.bodies()
    assert.deepEqual(
      later.events.map((e) => e.type),
      ['custom', 'custom'],
    )
  })

  it('sends a burst of events in bodies of at most 50, losing none', async () => {
    // (Events no longer wait for consent, so no queue outgrows 5 events plus a return_visit;
    // the 50-event cap of the wire format stays as a guard.)
    const p = makePage()
    p.start()
    track(p, 120)
    mock.timers.tick(10000)
    const sizes = (await p.bodies()).map((b) => b.events.length)
    assert.ok(sizes.every((n) => n <= 50))
    const ids = new Set((await p.events()).map((e) => e.id))
    assert.equal(ids.size, 121)
  })

  it('uses sendBeacon with a string body (text/plain, no Blob) when the page hides', async () => {
    const p = makePage()
    p.start()
    p.hide()
    const [req] = p.sent
    assert.equal(req.via, 'beacon')
    assert.equal(typeof req.body, 'string')
    const types = (await p.events()).map((e) => e.type)
    assert.deepEqual(types, ['pageview', 'visibility'])
  })

  it("sends a hidden page's batch by sendBeacon, and by fetch keepalive when sendBeacon refuses it", () => {
    const queued = makePage()
    queued.start()
    queued.hide()
    assert.deepEqual(
      queued.sent.map((r) => r.via),
      ['beacon'],
      'the browser delivers it after the page is gone',
    )
    const p = makePage({ beacon: false })
    p.start()
    p.hide()
    const [req] = p.sent
    assert.equal(req.via, 'fetch')
    assert.equal(req.to, 'https://api.test/track')
    assert.equal(req.init.method, 'POST')
    assert.equal(req.init.keepalive, true, 'a page closed during the request still delivers it')
    assert.equal(typeof req.body, 'string')
    assert.equal(req.init.headers, undefined, 'no header of ours: text/plain, no preflight')
  })

  it('sends by fetch where the browser has no sendBeacon', async () => {
    const p = makePage({ beacon: null })
    p.start()
    p.hide()
    assert.deepEqual(
      p.sent.map((r) => r.via),
      ['fetch'],
    )
    assert.deepEqual(
      (await p.events()).map((e) => e.type),
      ['pageview', 'visibility'],
    )
  })

  it('honours data-endpoint', () => {
    const p = makePage({ attrs: { 'data-endpoint': 'https://collect.test/api/' } })
    p.start()
    p.idle()
    assert.equal(p.sent[0].to, 'https://collect.test/api/track')
  })
})

describe('retries', () => {
  useFakeTime()

  for (const status of [0, 500, 503, 429]) {
    it(`keeps a batch that failed with ${status || 'a network error'} and resends it on the next load`, async () => {
      // Only a fetch shows its failure: the browser refused the beacon.
      const p = makePage({ status, beacon: false })
      p.start()
      p.idle() // the pageview is sent at idle time (T0 + 1)
      await settle()
      const kept = retries(p)
      assert.equal(kept.length, 1)
      assert.equal(kept[0][1], 1)
      assert.equal(kept[0][2], T0 + 1 + 5000)
      const resent = (page) => page.sent.filter((r) => r.body == kept[0][0]).length

      // The next page load, before the back-off: nothing is resent yet (its own pageview goes).
      const soon = makePage()
      soon.w.localStorage.setItem('oie_retry', JSON.stringify(kept))
      soon.start()
      soon.idle()
      assert.equal(resent(soon), 0)
      assert.equal(soon.sent.length, 1)

      mock.timers.tick(4999)
      const next = makePage()
      next.w.localStorage.setItem('oie_retry', JSON.stringify(kept))
      next.start()
      assert.equal(next.sent.length, 0, 'kept batches are resent at idle time, not during the load')
      next.idle()
      assert.equal(resent(next), 1)
      assert.equal(next.sent[0].body, kept[0][0], 'the kept batch goes before the pageview of this page')
      await settle()
      assert.deepEqual(retries(next), [])
    })
  }

  it('does not keep a batch rejected with another 4xx', async () => {
    const p = makePage({ status: 400, beacon: false })
    p.start()
    p.idle()
    await settle()
    assert.equal(p.sent.length, 1)
    assert.deepEqual(retries(p), [])
  })

  it('keeps the stored retries within 20 batches', async () => {
    const p = makePage({ status: 503, beacon: false })
    p.start()
    for (let k = 0; k < 30; k++) track(p, 5)
    await settle()
    assert.equal(retries(p).length, 20)
  })
})
