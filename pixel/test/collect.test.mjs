import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { clickProps, formProps, meter, reading } from '../src/collect.js'
import { makePage, T0, useFakeTime } from './helpers.mjs'

const FORM = `
<form id="demo" name="demo-form">
  <input name="name" value="Ada Lovelace">
  <input name="work_email" value=" ada@example.com ">
  <input type="email" name="other" value="second@example.com">
  <input type="password" name="pw" value="secret">
  <input type="radio" name="size" value="s"><input type="radio" name="size" value="m">
  <button type="submit" name="go">Send</button>
</form>`

const byType = async (p, type) => (await p.events()).filter((e) => e.type == type)
const flushAll = (p) => p.hide()

describe('scroll', () => {
  useFakeTime()

  it('sends each milestone once per pageview', async () => {
    const p = makePage()
    Object.defineProperty(p.d.documentElement, 'scrollHeight', { value: 4000 })
    p.w.innerHeight = 1000
    p.start()
    const scrollTo = (y) => {
      p.w.scrollY = y
      p.d.dispatchEvent(new p.w.Event('scroll'))
      mock.timers.tick(100)
    }
    scrollTo(1000) // 50 %
    scrollTo(500)
    scrollTo(1100)
    scrollTo(3000) // 100 %
    scrollTo(0)
    scrollTo(3000)
    flushAll(p)
    const depths = (await byType(p, 'scroll')).map((e) => e.props.depth)
    assert.deepEqual(depths, [25, 50, 75, 90, 100])
  })

  it('reads no layout before the first scroll or idle time', () => {
    const p = makePage()
    let reads = 0
    Object.defineProperty(p.d.documentElement, 'scrollHeight', {
      get: () => ++reads && 1000,
    })
    p.start()
    assert.equal(reads, 0)
  })
})

describe('clicks', () => {
  useFakeTime()

  it('describes links, buttons and CTAs without input values', async () => {
    const p = makePage({
      html: `<a id="l" class="nav  link" href="/pricing?plan=pro"><span>  See
        pricing </span></a>
        <a class="btn btn-primary" href="#">Book</a>
        <div data-oie-cta id="c">Start</div>
        <input id="s" type="submit" value="Go">
        <input id="t" name="q" value="typed secret">
        <p id="plain">text</p>`,
    })
    p.start()
    for (const sel of ['#l span', '.btn', '#c', '#s', '#t', '#plain']) p.d.querySelector(sel).click()
    flushAll(p)
    const clicks = (await byType(p, 'click')).map((e) => e.props)
    assert.deepEqual(clicks[0], {
      tag: 'a',
      el_id: 'l',
      classes: 'nav link',
      text: 'See pricing',
      href: 'https://site.test/pricing?plan=pro',
      cta: false,
    })
    assert.equal(clicks[1].cta, true)
    assert.deepEqual(clicks[2], { tag: 'div', el_id: 'c', classes: '', text: 'Start', href: '', cta: true })
    assert.equal(clicks[3].text, 'Go')
    assert.equal(clicks.length, 4)
    assert.ok(!JSON.stringify(p.sent.map((r) => r.body)).includes('typed secret'))
  })

  it('cuts the text to 100 characters', () => {
    const p = makePage({ html: `<button>${'word '.repeat(50)}</button>` })
    const props = clickProps(p.d.querySelector('button'))
    assert.equal(props.text.length, 100)
    assert.equal(props.cta, true)
  })

  it('reports a rage click when enabled', async () => {
    const p = makePage({ attrs: { 'data-optional': 'rage' }, html: '<p id="x">x</p>' })
    p.start()
    const x = p.d.getElementById('x')
    for (let k = 0; k < 4; k++) {
      x.dispatchEvent(new p.w.MouseEvent('click', { bubbles: true, clientX: 10 + k, clientY: 20 }))
      mock.timers.tick(100)
    }
    mock.timers.tick(1000)
    flushAll(p)
    const [rage] = await byType(p, 'rage_click')
    assert.deepEqual(rage.props, { count: 4, x: 13, y: 20, tag: 'p' })
  })
})

describe('forms', () => {
  useFakeTime()

  it('form_submit carries field names and only the first email, once per pageview', async () => {
    const p = makePage({ html: FORM })
    p.start()
    const form = p.d.getElementById('demo')
    const input = form.querySelector('[name=name]')
    input.dispatchEvent(new p.w.Event('input', { bubbles: true }))
    input.dispatchEvent(new p.w.Event('input', { bubbles: true }))
    form.dispatchEvent(new p.w.Event('submit', { bubbles: true, cancelable: true }))
    form.dispatchEvent(new p.w.Event('submit', { bubbles: true, cancelable: true }))
    flushAll(p)
    const starts = await byType(p, 'form_start')
    assert.deepEqual(
      starts.map((e) => e.props),
      [{ form_id: 'demo', form_name: 'demo-form' }],
    )
    const submits = await byType(p, 'form_submit')
    assert.equal(submits.length, 1)
    assert.deepEqual(submits[0].props, {
      form_id: 'demo',
      form_name: 'demo-form',
      fields: ['name', 'work_email', 'other', 'pw', 'size'],
      email: 'ada@example.com',
    })
    const raw = JSON.stringify(await p.bodies())
    for (const secret of ['Ada Lovelace', 'second@example.com', 'secret']) assert.ok(!raw.includes(secret))
  })

  it('omits email when the form has none', () => {
    const p = makePage({ html: '<form><input name="q" value="x"><input type="email" name="e"></form>' })
    assert.deepEqual(formProps(p.d.querySelector('form')), { form_id: '', form_name: '', fields: ['q', 'e'] })
  })
})

describe('engagement', () => {
  it('counts the 5 s after each interaction, not wall time', () => {
    const m = meter()
    m.hit(0)
    m.hit(2000) // +2 s
    m.hit(20000) // +5 s (idle gap capped)
    m.stop(21000) // +1 s, then hidden
    assert.equal(m.take(60000), 8000)
    m.hit(70000)
    assert.equal(m.take(71000), 1000)
  })

  it('reading speed needs words and 10 active seconds', () => {
    assert.deepEqual(reading('a b c d', 100, 10000), { wpm: 24, words: 4, seconds: 10 })
    assert.equal(reading('a b c d', 100, 9000), null)
    assert.deepEqual(reading('one two three four', 50, 60000), { wpm: 2, words: 2, seconds: 60 })
  })

  describe('active_time in the page', () => {
    useFakeTime()

    it('is flushed after 15 s of activity and when the page hides', async () => {
      const p = makePage()
      p.start()
      for (let k = 0; k < 20; k++) {
        p.w.dispatchEvent(new p.w.Event('keydown'))
        mock.timers.tick(1000)
      }
      p.hide()
      const ms = (await byType(p, 'active_time')).map((e) => e.props.ms)
      assert.deepEqual(ms, [15000, 5000])
    })

    it('is flushed on an SPA route change, which sends an spa pageview', async () => {
      const p = makePage()
      p.start()
      p.w.dispatchEvent(new p.w.Event('mousemove'))
      mock.timers.tick(3000)
      p.w.history.pushState({}, '', '/app/next?i=ab3f9k2q')
      p.w.history.replaceState({}, '', '/app/next#tab')
      p.hide()
      const events = await p.events()
      assert.deepEqual(
        events.map((e) => e.type),
        ['pageview', 'active_time', 'pageview', 'visibility'],
      )
      assert.deepEqual(events[2].props, { title: 'Home', referrer: 'https://site.test/p?x=1', spa: true })
      assert.equal(events[1].url, 'https://site.test/p?x=1')
      assert.equal(events[2].url, 'https://site.test/app/next')
      assert.equal(events[0].props.spa, false)
      assert.equal(events[0].props.referrer, 'https://ref.test/')
    })
  })
})

describe('video', () => {
  useFakeTime()

  it('sends play, progress milestones once, and complete', async () => {
    const p = makePage({ html: '<video src="https://cdn.test/v.webm"></video>' })
    p.start()
    const v = p.d.querySelector('video')
    Object.defineProperty(v, 'duration', { value: 8 })
    let t = 0
    Object.defineProperty(v, 'currentTime', { get: () => t })
    const fire = (type) => v.dispatchEvent(new p.w.Event(type))
    fire('play')
    for (t = 1; t <= 8; t++) fire('timeupdate')
    fire('timeupdate')
    Object.defineProperty(v, 'ended', { value: true })
    fire('pause')
    fire('ended')
    p.hide()
    const video = (await byType(p, 'video')).map((e) => [e.props.action, e.props.pct])
    assert.deepEqual(video, [
      ['play', undefined],
      ['progress', 25],
      ['progress', 50],
      ['progress', 75],
      ['complete', undefined],
    ])
    const [play] = await byType(p, 'video')
    assert.deepEqual(play.props, { action: 'play', src: 'https://cdn.test/v.webm', duration: 8 })
  })

  it('reports a seek made before the first play as progress at the first timeupdate after it', async () => {
    // pause, ended and timeupdate are listened to from the first play on (none can matter before).
    const p = makePage({ html: '<video src="https://cdn.test/v.webm"></video>' })
    p.start()
    const v = p.d.querySelector('video')
    Object.defineProperty(v, 'duration', { value: 8 })
    Object.defineProperty(v, 'currentTime', { value: 4.5 })
    const fire = (type) => v.dispatchEvent(new p.w.Event(type))
    fire('timeupdate')
    fire('play')
    fire('timeupdate')
    fire('pause')
    p.hide()
    const video = (await byType(p, 'video')).map((e) => [e.props.action, e.props.pct])
    assert.deepEqual(video, [
      ['play', undefined],
      ['progress', 25],
      ['progress', 50],
      ['pause', undefined],
    ])
  })
})
