// Personalization: fetch the visitor's profile, fill [data-personalize], toggle [data-show-if].
import { TOKEN } from './identity.js'
import { blocked, endpoint, load, safe } from './util.js'

const OPS = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
}

/** Evaluates `flag`, `!flag`, `key>N`, `key>=N`, `key<N`, `key<=N` or `key=value`. */
export const test = (expr, p) => {
  const m = /^\s*(!?)\s*([\w.-]+)\s*(?:([<>]=?|=)\s*(.*?))?\s*$/.exec(expr || '')
  if (!m) return false
  const v = p[m[2]]
  const op = m[3]
  const ok = !op
    ? !!v
    : v != null && (op == '=' ? String(v) == m[4] : OPS[op](+v, m[4] === '' ? NaN : +m[4]))
  return m[1] ? !ok : ok
}

/** Fills and toggles the page from a profile, as text only (never HTML). */
export const apply = (d, profile) => {
  // A prototype-free copy: "constructor" or "toString" are never profile fields.
  const p = Object.assign(Object.create(null), profile)
  for (const el of d.querySelectorAll('[data-personalize]')) {
    const v = p[el.dataset.personalize]
    if (v != null && v !== '' && typeof v != 'object') el.textContent = v
  }
  for (const el of d.querySelectorAll('[data-show-if]')) el.hidden = !test(el.dataset.showIf, p)
}

/** Hides personalized elements (300 ms at most), fetches the profile and applies it. */
export const run = (w, s) => {
  const d = w.document
  const html = d.documentElement
  const ds = s.dataset
  const st = load(w)
  // The URL's token is the freshest identity. The core removes it from the address bar at once
  // but stores it only at idle time, so it keeps the query as loaded in `oie.search`.
  const t = new URLSearchParams((w.oie && w.oie.search) || w.location.search).get('oie_t')
  if (t && TOKEN.test(t) && ds.consent != 'required') {
    st.tok = t
    st.vid = t.split('.')[0]
  }
  const reveal = () => html.classList.remove('oie-p')
  const done = safe((profile) => {
    const p = profile && typeof profile == 'object' ? profile : {}
    const go = safe(() => {
      reveal()
      apply(d, p)
      d.dispatchEvent(new w.CustomEvent('oie:profile', { detail: p }))
    })
    d.readyState == 'loading' ? d.addEventListener('DOMContentLoaded', go) : go()
  })
  if (!ds.tenant || !st.vid || blocked(w)) return done({})
  const style = d.createElement('style')
  style.textContent = '.oie-p [data-personalize],.oie-p [data-show-if]{visibility:hidden}'
  ;(d.head || html).appendChild(style)
  html.classList.add('oie-p')
  setTimeout(reveal, 300)
  const params = new URLSearchParams({ tenant: ds.tenant, vid: st.vid })
  st.tok && params.set('tok', st.tok)
  w.fetch(endpoint(s) + '/personalize?' + params, { credentials: 'omit' })
    .then((r) => (r.ok ? r.json() : {}))
    .catch(() => ({}))
    .then(done)
}
