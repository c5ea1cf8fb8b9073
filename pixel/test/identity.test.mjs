import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { identify, isId, param, strip } from '../src/identity.js'
import { load } from '../src/util.js'
import { makePage, settle, T0, TOKEN, useFakeTime } from './helpers.mjs'

const stored = (p) => [p.w.localStorage.length, p.d.cookie]
/** localStorage throws, as in private modes and sandboxed frames: the cookie is the store. */
const broken = (p) =>
  Object.defineProperty(p.w, 'localStorage', {
    get() {
      throw new p.w.DOMException('denied', 'SecurityError')
    },
  })

describe('strip', () => {
  it('drops i and oie_t and keeps every other parameter as written', () => {
    assert.equal(strip('?a=1&i=ab3f9k2q&b=x%20y&oie_t=v.1.s'), '?a=1&b=x%20y')
    assert.equal(strip('?i=ab3f9k2q&oie_t=v.1.s'), '')
    assert.equal(strip(''), '')
    assert.equal(strip('?ix=1&i'), '?ix=1')
  })
})

describe('param', () => {
  it('reads the first value of a parameter, percent-decoded, and nothing for another name', () => {
    assert.equal(param('?ix=9&i=ab3f9k2q&i=second', 'i'), 'ab3f9k2q')
    assert.equal(param('?oie_t=a.b%3D', 'oie_t'), 'a.b=')
    assert.equal(param('?ix=9', 'i'), undefined)
    assert.equal(param('', 'i'), undefined)
  })
  it('gives nothing for a malformed escape instead of throwing', () => {
    assert.equal(param('?i=%E0%A4%A', 'i'), undefined)
  })
})

describe('isId', () => {
  it('accepts 8 to 16 base62 characters only', () => {
    for (const ok of ['ab3f9k2q', 'AB3F9K2Qab3f9k2q', '01234567']) assert.equal(isId(ok), true, ok)
    for (const bad of ['ab3f9k2', 'ab3f9k2qab3f9k2qX', 'ab3f-k2q', 'ab3f9k2q ', 'äb3f9k2q', ''])
      assert.equal(isId(bad), false, bad)
  })
})

describe('identify', () => {
  it('adopts a valid i and keeps the stored visitor id', () => {
    const st = identify({ vid: 'old' }, '?i=ab3f9k2q')
    assert.deepEqual(st, { vid: 'old', i: 'ab3f9k2q' })
  })
  it('adopts the vid the server signed into the token', () => {
    const st = identify({ vid: 'old', i: 'zzzzzzzz' }, `?oie_t=${TOKEN}`)
    assert.equal(st.vid, 'tokVid12345')
    assert.equal(st.tok, TOKEN)
    assert.equal(st.i, 'zzzzzzzz')
  })
  it('ignores a malformed i or token', () => {
    const st = identify({}, '?i=no!&oie_t=nodots')
    assert.equal(st.i, undefined)
    assert.equal(st.tok, undefined)
  })
  it('makes a new random base62 visitor id when none is known', () => {
    const a = identify({}, '').vid
    const b = identify({}, '').vid
    assert.match(a, /^[0-9A-Za-z]{16}$/)
    assert.notEqual(a, b)
  })
  it('replaces a stored i with a different one', () => {
    assert.equal(identify({ vid: 'v', i: 'aaaaaaaa' }, '?i=bbbbbbbb').i, 'bbbbbbbb')
  })
})

describe('identity in the page', () => {
  useFakeTime()

  it('stores i and token, then cleans the address bar keeping other params and hash', async () => {
    const p = makePage({ url: `https://site.test/p?x=1&i=ab3f9k2q&oie_t=${TOKEN}#top` })
    p.start()
    assert.equal(p.w.location.search, '?x=1')
    assert.equal(p.w.location.hash, '#top')
    assert.deepEqual(stored(p), [0, ''], 'nothing is stored during the page load')
    p.idle()
    const st = JSON.parse(p.w.localStorage.getItem('oie_id'))
    assert.equal(st.vid, 'tokVid12345')
    assert.equal(st.i, 'ab3f9k2q')
    assert.equal(st.tok, TOKEN)
    assert.equal(st.visit, 1)
    assert.equal(p.d.cookie, '', 'localStorage works: no cookie is written')
    const [body] = await p.bodies()
    assert.equal(body.vid, 'tokVid12345')
    assert.equal(body.i, 'ab3f9k2q')
    assert.equal(body.tok, TOKEN)
    assert.equal(body.events[0].url, 'https://site.test/p?x=1')
  })

  it('re-identifies a returning visitor from the cookie when localStorage does not work', async () => {
    const first = makePage({ url: 'https://site.test/?i=ab3f9k2q' })
    broken(first)
    first.start()
    first.idle()
    const cookie = first.d.cookie
    const again = makePage({ url: 'https://site.test/later' })
    again.d.cookie = cookie.split('; ').find((c) => c.startsWith('oie_id=')) + ';path=/'
    assert.deepEqual(load(again.w), {}, 'localStorage works and is empty: a new visitor, the cookie unread')
    broken(again)
    assert.equal(load(again.w).i, 'ab3f9k2q')
    again.start()
    again.idle()
    await settle()
    const [body] = await again.bodies()
    assert.equal(body.i, 'ab3f9k2q')
    assert.equal(body.vid, load(first.w).vid)
  })

  it('sends null i and tok for an unknown visitor', async () => {
    const p = makePage()
    p.start()
    p.idle()
    const [body] = await p.bodies()
    assert.equal(body.i, null)
    assert.equal(body.tok, null)
    assert.equal(body.v, 1)
    assert.equal(body.tenant, 'acme')
    assert.deepEqual(Object.keys(body.ctx), ['vw', 'vh', 'sw', 'sh', 'dpr', 'lang', 'tzo', 'visit'])
  })
})
