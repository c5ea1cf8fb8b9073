// Who the visitor is: the URL's `i` / `oie_t` applied to the stored identity.
import { ABC, rid } from './util.js'

/** `<vid>.<exp>.<sig>` as signed by the server (sig in base64url). */
export const TOKEN = /^[\w-]+\.[0-9A-Za-z]{8,16}\.\d+\.[\w=~-]+$/

// Query strings are split and `i` checked by hand: a fresh page's first URLSearchParams (or URL)
// and each first regular expression cost more than the whole split (tests/bench/bench_pixel.py).
const pairs = (search) => search.slice(1).split('&')
const name = (p) => p.split('=')[0]

/** True for an `i`: 8-16 base62 characters. */
export const isId = (i) => i.length > 7 && i.length < 17 && [...i].every((c) => ABC.includes(c))

/** Drops `i` and `oie_t` from a query string, keeping every other parameter as written. */
export const strip = (search) => {
  const s = pairs(search)
    .filter((p) => p && name(p) != 'i' && name(p) != 'oie_t')
    .join('&')
  return s && '?' + s
}

/** The first value of parameter `key` in a query string, decoded; undefined when absent or malformed. */
export const param = (search, key) => {
  for (const p of pairs(search))
    if (name(p) == key)
      try {
        return decodeURIComponent(p.slice(key.length + 1))
      } catch (e) {
        return
      }
}

/** Applies the URL's `i` and token to the stored identity; the token's vid wins. */
export const identify = (st, search) => {
  const i = param(search, 'i')
  const t = param(search, 'oie_t')
  if (i && isId(i)) st.i = i
  if (t && TOKEN.test(t)) {
    st.tok = t
    st.vid = t.split('.')[0]
  }
  st.vid = st.vid || rid()
  return st
}
