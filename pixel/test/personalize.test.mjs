import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { apply, run, test } from '../src/personalize.js'
import { makePage, settle, T0, TOKEN, useFakeTime } from './helpers.mjs'

const PROFILE = {
  firstName: 'Ada',
  company: 'Acme',
  industry: 'SaaS',
  intentLevel: 'hot',
  intentScore: 72,
  viewedPricing: true,
}

describe('show-if expressions', () => {
  const cases = [
    ['viewedPricing', true],
    ['!viewedPricing', false],
    ['missing', false],
    ['!missing', true],
    ['intentScore>70', true],
    ['intentScore>72', false],
    ['intentScore>=72', true],
    ['intentScore<72', false],
    ['intentScore<=72', true],
    [' intentScore < 100 ', true],
    ['intentLevel=hot', true],
    ['intentLevel=warm', false],
    ['company=Acme', true],
    ['missing>0', false],
    ['missing<1', false],
    ['intentScore>', false],
    ['bad expression!', false],
    ['', false],
  ]
  for (const [expr, want] of cases) {
    it(`"${expr}" is ${want}`, () => assert.equal(test(expr, PROFILE), want))
  }
})

describe('apply', () => {
  it('fills text only, keeps fallbacks for missing fields and never injects HTML', () => {
    const p = makePage({
      html: `<h1>Hi <span data-personalize="firstName">there</span></h1>
        <b data-personalize="company">your team</b>
        <i data-personalize="title">friend</i>
        <i data-personalize="constructor">ctor</i>`,
    })
    apply(p.d, { firstName: '<img src=x onerror=alert(1)>', company: 'Acme' })
    const [name, company, title, ctor] = p.d.querySelectorAll('[data-personalize]')
    assert.equal(name.textContent, '<img src=x onerror=alert(1)>')
    assert.equal(p.d.querySelector('img'), null)
    assert.equal(company.textContent, 'Acme')
    assert.equal(title.textContent, 'friend')
    assert.equal(ctor.textContent, 'ctor')
  })

  it('toggles [data-show-if] with the hidden attribute', () => {
    const p = makePage({
      html: `<p id="a" data-show-if="intentLevel=hot" hidden>hot</p>
        <p id="b" data-show-if="!viewedPricing">pricing</p>
        <p id="c" data-show-if="intentScore>=50">score</p>`,
    })
    apply(p.d, PROFILE)
    const hidden = ['a', 'b', 'c'].map((id) => p.d.getElementById(id).hidden)
    assert.deepEqual(hidden, [false, true, false])
    apply(p.d, {})
    assert.deepEqual(
      ['a', 'b', 'c'].map((id) => p.d.getElementById(id).hidden),
      [true, false, true],
    )
  })
})

describe('run', () => {
  useFakeTime(['setTimeout'])

  const html = '<p>Hi <span data-personalize="firstName">there</span></p>'

  it('fetches the profile with vid and tok, fills the page and dispatches oie:profile', async () => {
    const p = makePage({ url: `https://site.test/?oie_t=${TOKEN}`, html })
    p.json = PROFILE
    let detail
    p.d.addEventListener('oie:profile', (e) => (detail = e.detail))
    run(p.w, p.script)
    assert.equal(
      p.sent[0].to,
      `https://api.test/personalize?tenant=acme&vid=tokVid12345&tok=${encodeURIComponent(TOKEN)}`,
    )
    await settle()
    assert.equal(p.d.querySelector('span').textContent, 'Ada')
    assert.deepEqual(detail, PROFILE)
    assert.equal(p.d.documentElement.className, '')
  })

  it('finds the token the core removed from the address bar before storing it (idle time)', () => {
    const p = makePage({ url: `https://site.test/?x=1&oie_t=${TOKEN}`, html })
    p.start() // the core runs first: the URL is clean, the storage still empty
    assert.equal(p.w.location.search, '?x=1')
    assert.equal(p.w.localStorage.getItem('oie_id'), null)
    run(p.w, p.script)
    const [req] = p.sent.filter((r) => r.to.includes('/personalize'))
    assert.equal(req.to, `https://api.test/personalize?tenant=acme&vid=tokVid12345&tok=${encodeURIComponent(TOKEN)}`)
  })

  it('reads the stored identity and omits tok when there is none', () => {
    const p = makePage({ html })
    p.w.localStorage.setItem('oie_id', JSON.stringify({ vid: 'storedVid' }))
    run(p.w, p.script)
    assert.equal(p.sent[0].to, 'https://api.test/personalize?tenant=acme&vid=storedVid')
  })

  it('hides personalized elements for at most 300 ms', async () => {
    const p = makePage({ url: `https://site.test/?oie_t=${TOKEN}`, html })
    p.w.fetch = () => new Promise(() => {}) // never answers
    run(p.w, p.script)
    const root = p.d.documentElement
    assert.ok(root.classList.contains('oie-p'))
    assert.match(p.d.querySelector('style').textContent, /\.oie-p \[data-personalize\],\.oie-p \[data-show-if\]\{visibility:hidden\}/)
    mock.timers.tick(299)
    assert.ok(root.classList.contains('oie-p'))
    mock.timers.tick(1)
    assert.ok(!root.classList.contains('oie-p'))
  })

  it('reveals the fallback text at once on an error response', async () => {
    const p = makePage({ url: `https://site.test/?oie_t=${TOKEN}`, html, status: 500 })
    run(p.w, p.script)
    await settle()
    assert.ok(!p.d.documentElement.classList.contains('oie-p'))
    assert.equal(p.d.querySelector('span').textContent, 'there')
  })

  it('does not fetch for an unknown visitor or under Global Privacy Control', () => {
    const unknown = makePage({ html })
    run(unknown.w, unknown.script)
    const gpc = makePage({ url: `https://site.test/?oie_t=${TOKEN}`, html })
    Object.defineProperty(gpc.w.navigator, 'globalPrivacyControl', { value: true })
    run(gpc.w, gpc.script)
    assert.equal(unknown.sent.length + gpc.sent.length, 0)
    assert.ok(!unknown.d.documentElement.classList.contains('oie-p'))
  })
})
