// Shared helpers: random ids and the identity store (localStorage first, cookie fallback).
export const ABC = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
export const KEY = 'oie_id'
export const RETRY = 'oie_retry'

/** Random base62 id (16 chars, ~95 bits) from crypto.getRandomValues. */
export const rid = (n = 16) => {
  let s = ''
  for (const b of crypto.getRandomValues(new Uint8Array(n))) s += ABC[b % 62]
  return s
}

/** Listens with a capturing passive listener whose errors never reach the host page. */
export const on = (target, type, fn) =>
  target.addEventListener(type, safe(fn), { capture: true, passive: true })

/** localStorage access that never throws (private modes and sandboxed frames do): the value read
 *  (null when absent), or true for a write; undefined when localStorage does not work. */
export const ls = (w, k, v) => {
  try {
    const s = w.localStorage
    return v === undefined ? s.getItem(k) : (v === null ? s.removeItem(k) : s.setItem(k, v), true)
  } catch (e) {}
}

const parse = (s) => {
  try {
    const o = JSON.parse(s)
    if (o && typeof o == 'object') return o
  } catch (e) {}
}

/** Reads the stored identity ({vid, i, tok, visit, seen, sid}) or {}. */
export const load = (w) => {
  const s = ls(w, KEY)
  // The cookie is a synchronous round trip to the browser (about 1 ms on a first visit): read it
  // only when localStorage does not work, never because it is empty.
  if (s !== undefined) return parse(s) || {}
  const m = w.document.cookie.match(/(?:^|; )oie_id=([^;]*)/)
  return (m && parse(decodeURIComponent(m[1]))) || {}
}

const cookie = (w, v, age) => {
  w.document.cookie = `${KEY}=${v};path=/;max-age=${age};samesite=lax${
    w.location.protocol == 'https:' ? ';secure' : ''
  }`
}

/** Writes the identity to localStorage, or to the 90-day first-party cookie when localStorage does
 *  not work (then the cookie is the store, and the only one read back). */
export const save = (w, st) => {
  const v = JSON.stringify(st)
  ls(w, KEY, v) || cookie(w, encodeURIComponent(v), 7776000)
}

/** Forgets everything the pixel stored (consent withdrawn). */
export const clear = (w) => {
  ls(w, KEY, null)
  ls(w, RETRY, null)
  cookie(w, '', 0)
}

/** True when the visitor opted out (`localStorage.oie_optout = "1"`). */
export const optout = (w) => ls(w, 'oie_optout') == '1'

/** True when the visitor opted out or the browser sends Global Privacy Control. */
export const blocked = (w) => optout(w) || w.navigator.globalPrivacyControl === true

/** `data-endpoint` without a trailing slash, or the origin of the script's own src (an absolute
 *  URL: scheme, then the host after any user info; no `new URL`, see identity.js). */
export const endpoint = (s) => {
  const u = s.dataset.endpoint
  if (u) return u.endsWith('/') ? u.slice(0, -1) : u
  const src = s.src
  const a = src.indexOf('//') + 2
  const host = src.slice(a, src.indexOf('/', a))
  return src.slice(0, a) + host.slice(host.lastIndexOf('@') + 1)
}

/** Wraps a callback so that its errors never reach the host page. */
export const safe =
  (fn) =>
  (...a) => {
    try {
      return fn(...a)
    } catch (e) {}
  }
