// The pixel: config from the script tag, identity, sessions, collectors, queue and public API.
import {
  clickProps,
  clickable,
  DEPTHS,
  formInfo,
  formProps,
  meter,
  reading,
  scrolled,
} from './collect.js'
import { identify, strip } from './identity.js'
import { touch } from './session.js'
import { transport } from './transport.js'
import { clear, endpoint, load, on, optout, rid, safe, save } from './util.js'

/** Starts tracking for window `w` as configured by script element `s`. */
export const start = (w, s) => {
  const d = w.document
  const l = w.location
  const n = w.navigator
  const ds = s.dataset
  const tenant = ds.tenant
  const opt = (ds.optional || '').split(',')
  const off = () => (w.oie = () => {})
  // Automation (unless our own tests allow it) and file: pages: do nothing.
  if (!tenant || (n.webdriver && !('allowAutomation' in ds)) || l.protocol == 'file:') return off()
  // The URL as loaded: its i / oie_t wait here, in memory only, until init() applies them to the
  // stored identity once consent allows it (never, if consent never comes).
  const search = l.search
  // Shared URLs must not carry identity: i and oie_t leave the address bar at once, whatever the
  // consent state, GPC included.
  const c = strip(search)
  c != search && w.history.replaceState(w.history.state, '', l.pathname + c + l.hash)
  // GPC: nothing else happens (consent does not override it). The opt-out flag lives in
  // localStorage, so it is checked by init(), before anything is stored or sent.
  if (n.globalPrivacyControl === true) return off()
  let m = meter()
  const q = []
  // The identity ({vid, i, tok, visit, seen, sid}), read from storage by init() once consent
  // allows it: undefined before (events wait in memory until then), 0 again after a refusal.
  let st
  // consent: 1 may measure, store and send; 0 waiting for consent and -1 refused: nothing is
  // measured (what the meters and markers hold meanwhile is reset before it could count);
  // -2 opted out (localStorage.oie_optout): nothing happens any more.
  let consent = ds.consent == 'required' ? 0 : 1
  let tx
  let timer = 0
  let ctx
  let page
  let view
  let last
  let clicks = []
  let rage
  let sel

  const url = () => l.origin + l.pathname + strip(l.search)
  const idle = (f) => (w.requestIdleCallback ? w.requestIdleCallback(f, { timeout: 2e3 }) : setTimeout(f, 1))
  // At idle time after the load event.
  const soon = (f) =>
    d.readyState == 'complete' ? idle(f) : w.addEventListener('load', () => idle(f), { once: true })
  // Events belong to the current pageview's URL (active_time of a left SPA route too). The id
  // (crypto) is drawn by stamp(): nothing random is needed during the page load.
  const ev = (type, props, ts = Date.now(), url = last) => ({ id: 0, type, ts, url, props })

  // Records an event's activity in the session; a new session with visit > 1 first queues
  // return_visit (at the event's time and URL).
  const stamp = (e) => {
    const prev = touch(st, e.ts)
    // (A second touch at the same time changes nothing.)
    prev > 0 && st.visit > 1 && stamp(ev('return_visit', { visit: st.visit, last_seen_ms: prev }, e.ts, e.url))
    e.id = rid()
    q.push(e)
  }

  // All storage work, kept out of the page load: runs at idle time after load, or at once when
  // something must be sent first (5 events, pagehide, hidden page). Checks the opt-out, loads
  // the identity and sessions the events queued so far as if they had been recorded then.
  const init = () => {
    if (st) return
    if (optout(w)) {
      consent = -2
      q.length = 0
      return
    }
    tx = transport(w, endpoint(s) + '/track')
    st = identify(load(w), search)
    for (const e of q.splice(0)) stamp(e)
    // localStorage only (the cookie is written only when localStorage does not work).
    save(w, st)
    tx.retry()
  }

  const flush = safe((beacon) => {
    clearTimeout(timer)
    timer = 0
    // Storage is read before the first send (at once, e.g. on a pagehide before idle time).
    if (consent < 1 || !q.length || (init(), !q.length)) return
    // Viewport reads wait for the first send, never the page load.
    ctx = ctx || {
      vw: w.innerWidth,
      vh: w.innerHeight,
      sw: w.screen.width,
      sh: w.screen.height,
      dpr: w.devicePixelRatio,
      lang: n.language,
      tzo: new Date().getTimezoneOffset(),
    }
    while (q.length) {
      const body = {
        v: 1,
        tenant,
        vid: st.vid,
        i: st.i || null,
        tok: st.tok || null,
        sid: st.sid,
        ctx: { ...ctx, visit: st.visit },
        events: q.splice(0, 50),
      }
      tx.send(JSON.stringify(body), beacon)
    }
  })

  // Only consented events are recorded: nothing measured before consent is ever sent.
  const push = (type, props) => {
    if (consent < 1) return
    const e = ev(type, props)
    // Before init() events wait in memory; init() sessions them.
    if (!st) q.push(e)
    else {
      // Another tab may have moved the session on: storage is the shared truth.
      Object.assign(st, load(w))
      stamp(e)
      save(w, st)
    }
    if (q.length > 4) flush()
    // (The idle-time task's send clears this timer, so it wakes an idle page only when `load`
    // never comes.)
    else timer = timer || setTimeout(flush, 1e4)
  }

  // The current pageview's markers: scroll milestones, forms started and sent, video milestones,
  // active ms, reading speed sent.
  const marks = () => (page = { s: new Set(), f: new Set(), fs: new Set(), v: new Map(), a: 0 })
  // Consent given or refused: whatever was measured so far is forgotten (queue, active-time meter,
  // markers, a pending rage click or selection) and the URL's token goes to oie-p.js only with
  // consent.
  const reset = () => {
    q.length = 0
    m = meter()
    marks()
    clicks = []
    clearTimeout(rage)
    clearTimeout(sel)
    api.search = consent > 0 ? search : ''
  }

  // Consent given: measurement starts from zero with this page's pageview; the storage is read,
  // written, kept batches resent and the pageview sent at idle time (the first send runs init()).
  const enable = () => {
    if (consent > 0) return
    consent = 1
    reset()
    push('pageview', view)
    soon(first)
  }

  const measure = safe(() => {
    if (consent < 1) return
    const pct = scrolled(w)
    for (const x of DEPTHS) if (pct >= x && !page.s.has(x)) push('scroll', { depth: page.s.add(x) && x })
  })

  // Ends the current pageview's engagement: active time, and reading speed once.
  const active = (hidden) => {
    const now = Date.now()
    hidden && m.stop(now)
    const ms = m.take(now)
    page.a += ms
    ms && push('active_time', { ms })
  }
  const end = (hidden) => {
    active(hidden)
    if (opt.includes('reading') && !page.r) {
      page.r = 1
      const root = d.querySelector('article,main') || d.body
      const r = reading(root.innerText || root.textContent, Math.max(0, ...page.s), page.a)
      r && push('reading_speed', r)
    }
  }

  const pageview = (spa) => {
    const referrer = spa ? last : d.referrer
    page && end()
    last = url()
    marks()
    push('pageview', (view = { title: d.title, referrer, spa }))
    // Layout is first read at idle time after load (or at the first scroll); the first pageview's
    // depth is measured by the idle-time start below.
    spa && soon(measure)
  }
  const route = safe(() => url() != last && pageview(true))

  const api = safe((cmd, a, b) => {
    if (consent < -1) return
    if (cmd == 'track') push('custom', { name: a, ...b })
    if (cmd == 'consent') {
      if (a) enable()
      else {
        // Refused: stop, forget what was measured and the identity (stored and in memory).
        consent = -1
        reset()
        st = 0
        clear(w)
      }
    }
  })

  // The idle-time task after load: storage, the first scroll depth, and the first send (the
  // pageview goes now, not after a 10 s timer that would wake an idle page once more).
  const first = safe(() => consent > 0 && (init(), measure(), flush()))

  const early = (w.oie && w.oie.q) || []
  w.oie = api
  // The URL's i / oie_t have left the address bar but storage waits: oie-p.js finds them here
  // (only with consent).
  api.search = consent ? search : ''
  // Storage, the first layout read and the first send wait for idle time, and for consent.
  soon(first)
  pageview(false)
  for (const args of early) api(...args)

  for (const k of ['pushState', 'replaceState']) {
    const orig = w.history[k]
    w.history[k] = function () {
      const r = orig.apply(this, arguments)
      route()
      return r
    }
  }
  on(w, 'popstate', route)

  // Throttled: at most one measure when a burst starts and one per 100 ms after it.
  let pending = 0
  const depth = () => {
    if (!pending) {
      measure()
      pending = setTimeout(() => (pending = 0) || measure(), 100)
    }
  }
  // One capturing listener per interaction type on window (fewer registrations during the load):
  // active time first, then scroll depth and clicks.
  for (const t of ['mousemove', 'keydown', 'scroll', 'touchstart', 'click'])
    on(w, t, (e) => {
      d.visibilityState == 'visible' && m.hit(Date.now()) >= 15e3 && active()
      t == 'scroll' ? depth() : t == 'click' && click(e)
    })

  on(d, 'visibilitychange', () => {
    const state = d.visibilityState
    state == 'hidden' && end(1)
    push('visibility', { state })
    state == 'hidden' && flush(1)
  })

  on(w, 'pagehide', () => {
    end(1)
    flush(1)
  })

  const click = (e) => {
    const el = clickable(e.target)
    el && push('click', clickProps(el))
    if (opt.includes('rage')) {
      const { clientX: x, clientY: y } = e
      const now = Date.now()
      clicks = clicks.filter((c) => now - c[0] < 1e3 && Math.abs(c[1] - x) < 30 && Math.abs(c[2] - y) < 30)
      clicks.push([now, x, y])
      const count = clicks.length
      const tag = e.target.tagName.toLowerCase()
      if (count > 2) {
        clearTimeout(rage)
        rage = setTimeout(
          safe(() => {
            clicks = []
            push('rage_click', { count, x, y, tag })
          }),
          1e3,
        )
      }
    }
  }

  on(d, 'input', (e) => {
    const f = e.target.form
    f && !page.f.has(f) && push('form_start', formInfo(page.f.add(f) && f))
  })
  on(d, 'submit', (e) => {
    const f = e.target
    !page.fs.has(f) && push('form_submit', formProps(page.fs.add(f) && f))
  })

  const media = (e) => {
    const v = e.target
    const t = e.type
    if (v.tagName != 'VIDEO' || (t == 'pause' && v.ended)) return
    const duration = v.duration
    const base = { src: (v.currentSrc || v.src).slice(0, 500), duration: isFinite(duration) ? Math.round(duration * 10) / 10 : null }
    let seen = page.v.get(v)
    seen || page.v.set(v, (seen = new Set()))
    if (t != 'timeupdate') push('video', { action: t == 'ended' ? 'complete' : t, ...base })
    else
      for (const p of [25, 50, 75])
        (v.currentTime / duration) * 100 >= p &&
          !seen.has(p) &&
          push('video', { action: 'progress', pct: seen.add(p) && p, ...base })
  }
  // pause, ended and timeupdate only follow a play: their listeners wait for the first one.
  let played
  on(d, 'play', (e) => {
    played = played || ['pause', 'ended', 'timeupdate'].map((t) => on(d, t, media))
    media(e)
  })

  const chars = () => String(w.getSelection()).length
  opt.includes('selection') &&
    on(d, 'selectionchange', () => {
      clearTimeout(sel)
      sel = setTimeout(
        safe(() => chars() && push('selection', { chars: chars() })),
        1e3,
      )
    })
  opt.includes('copy') && on(d, 'copy', () => push('copy', { chars: chars() }))
}
