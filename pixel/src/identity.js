// Who the visitor is: the URL's `i` / `oie_t` applied to the stored identity.
import { rid } from './util.js'

/** `<vid>.<exp>.<sig>` as signed by the server (sig in base64url). */
export const TOKEN = /^[\w-]+\.[0-9A-Za-z]{8,16}\.\d+\.[\w=~-]+$/
const ID = /^[0-9A-Za-z]{8,16}$/

/** Drops `i` and `oie_t` from a query string, keeping every other parameter as written. */
export const strip = (search) => {
  const s = search
    .slice(1)
    .split('&')
    .filter((p) => p && !/^(i|oie_t)(=|$)/.test(p))
    .join('&')
  return s && '?' + s
}

/** Applies the URL's `i` and token to the stored identity; the token's vid wins. */
export const identify = (st, search) => {
  const p = new URLSearchParams(search)
  const i = p.get('i')
  const t = p.get('oie_t')
  if (i && ID.test(i)) st.i = i
  if (t && TOKEN.test(t)) {
    st.tok = t
    st.vid = t.split('.')[0]
  }
  st.vid = st.vid || rid()
  return st
}
