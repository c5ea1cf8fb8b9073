import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { backoff, bound } from '../src/transport.js'
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
    assert.equal(req.init.method, 'POST')
    assert.equal(req.init.keepalive, true)
    assert.deepEqual(req.init.headers, { 'Content-Type': 'text/plain' })
    const events = await p.events()
    assert.deepEqual(
      events.map((e) => e.type),
      ['pageview', 'custom', 'custom', 'custom', 'custom'],
    )
    assert.deepEqual(events[1].props, { name: 'e0', k: 0 })
    assert.equal(events[0].ts, T0)
  })

  it('sends fewer than 5 events after 10 seconds', () => {
    const p = makePage()
    p.start()
    mock.timers.tick(9999)
    assert.equal(p.sent.length, 0)
    mock.timers.tick(1)
    assert.equal(p.sent.length, 1)
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

  it('uses sendBeacon with a text/plain Blob when the page hides', async () => {
    const p = makePage()
    p.start()
    p.hide()
    const [req] = p.sent
    assert.equal(req.via, 'beacon')
    assert.equal(req.blob.type, 'text/plain')
    const types = (await p.events()).map((e) => e.type)
    assert.deepEqual(types, ['pageview', 'visibility'])
  })

  it('honours data-endpoint', () => {
    const p = makePage({ attrs: { 'data-endpoint': 'https://collect.test/api/' } })
    p.start()
    mock.timers.tick(10000)
    assert.equal(p.sent[0].to, 'https://collect.test/api/track')
  })
})

describe('retries', () => {
  useFakeTime()

  for (const status of [0, 500, 503, 429]) {
    it(`keeps a batch that failed with ${status || 'a network error'} and resends it on the next load`, async () => {
      const p = makePage({ status })
      p.start()
      mock.timers.tick(10000)
      await settle()
      const kept = retries(p)
      assert.equal(kept.length, 1)
      assert.equal(kept[0][1], 1)
      assert.equal(kept[0][2], T0 + 10000 + 5000)

      // The next page load, before the back-off: nothing is resent yet.
      const soon = makePage()
      soon.w.localStorage.setItem('oie_retry', JSON.stringify(kept))
      soon.start()
      soon.idle()
      assert.equal(soon.sent.length, 0)

      mock.timers.tick(4999)
      const next = makePage()
      next.w.localStorage.setItem('oie_retry', JSON.stringify(kept))
      next.start()
      assert.equal(next.sent.length, 0, 'kept batches are resent at idle time, not during the load')
      next.idle()
      assert.equal(next.sent.length, 1)
      assert.equal(next.sent[0].body, kept[0][0])
      await settle()
      assert.deepEqual(retries(next), [])
    })
  }

  it('does not keep a batch rejected with another 4xx', async () => {
    const p = makePage({ status: 400 })
    p.start()
    mock.timers.tick(10000)
    await settle()
    assert.deepEqual(retries(p), [])
  })

  it('keeps the stored retries within 20 batches', async () => {
    const p = makePage({ status: 503 })
    p.start()
    for (let k = 0; k < 30; k++) track(p, 5)
    await settle()
    assert.equal(retries(p).length, 20)
  })
})
