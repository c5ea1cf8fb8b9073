// jsdom pages for the unit tests: a window with a <script data-tenant> tag and a fake network.
import { JSDOM } from 'jsdom'
import { afterEach, beforeEach, mock } from 'node:test'
import { start } from '../src/core.js'

export const T0 = 1767225600000
export const TOKEN = 'tokVid12345.ab3f9k2q.1767225600.AbC-_9'

const open = []

/** Fake setTimeout and Date (from T0) in each test of the current suite; closes its pages after. */
export const useFakeTime = (apis = ['setTimeout', 'Date']) => {
  beforeEach(() => mock.timers.enable({ apis, now: T0 }))
  afterEach(() => {
    for (const w of open.splice(0)) w.close()
    mock.timers.reset()
  })
}

/** A jsdom window at `url`; `sent` collects every request the pixel makes. `beacon: false` makes
 *  sendBeacon refuse every body (as over the browser's quota), `beacon: null` removes it. */
export const makePage = ({ url = 'https://site.test/p?x=1', attrs = {}, html = '', status = 202, beacon = true } = {}) => {
  const dom = new JSDOM(
    `<!doctype html><html><head><title>Home</title></head><body>${html}</body></html>`,
    { url, pretendToBeVisual: true, referrer: 'https://ref.test/' },
  )
  const w = dom.window
  open.push(w)
  const sent = []
  const page = { w, d: w.document, sent, status }
  w.fetch = async (to, init) => {
    const s = typeof page.status == 'function' ? page.status() : page.status
    sent.push({ via: 'fetch', to, init, body: init && init.body })
    if (s === 0) throw new TypeError('network error')
    return { status: s, ok: s < 300, json: async () => page.json }
  }
  w.navigator.sendBeacon =
    beacon === null
      ? undefined
      : (to, data) => {
          // A refused beacon is never sent.
          beacon && sent.push({ via: 'beacon', to, body: data })
          return beacon
        }
  const script = w.document.createElement('script')
  script.src = 'https://api.test/static/oie.js'
  for (const [k, v] of Object.entries({ 'data-tenant': 'acme', ...attrs })) script.setAttribute(k, v)
  w.document.head.appendChild(script)
  page.script = script
  page.start = () => start(w, script)
  /** The page finishes loading (jsdom fires `load` asynchronously), then idle time comes (jsdom
   *  has no requestIdleCallback: the pixel falls back to a 1 ms timeout). */
  page.idle = () => {
    w.document.readyState == 'complete' || w.dispatchEvent(new w.Event('load'))
    mock.timers.tick(1)
  }
  /** Parsed bodies of everything sent so far (fetch and beacon bodies are strings). */
  page.bodies = async () => sent.filter((r) => r.to.endsWith('/track')).map((r) => JSON.parse(r.body))
  page.events = async () => (await page.bodies()).flatMap((b) => b.events)
  page.hide = (state = 'hidden') => {
    Object.defineProperty(w.document, 'visibilityState', { value: state, configurable: true })
    w.document.dispatchEvent(new w.Event('visibilitychange'))
  }
  return page
}

/** Lets pending promise callbacks (fake fetch responses) run. */
export const settle = () => new Promise((r) => setImmediate(r))
