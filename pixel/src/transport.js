// The only module that does network I/O: batches to /track by fetch keepalive with stored retries,
// by sendBeacon when the page is going away.
import { ls, RETRY } from './util.js'

/** Keeps the newest retry batches within 20 entries and ~50 KB (oldest dropped first). */
export const bound = (list) => {
  while (list.length > 20 || JSON.stringify(list).length > 5e4) list.shift()
  return list
}

/** Delay before retry number n+1: 5 s, 10 s, 20 s ... capped at an hour. */
export const backoff = (n) => Math.min(5e3 * 2 ** n, 36e5)

/** Sender for one endpoint: send(body, beacon) and retry() of batches kept from earlier pages. */
export const transport = (w, url) => {
  const get = () => {
    try {
      return JSON.parse(ls(w, RETRY)) || []
    } catch (e) {
      return []
    }
  }
  const put = (list) => ls(w, RETRY, list.length ? JSON.stringify(bound(list)) : null)
  // Failed attempt number n (0-based): store it, due again after the back-off.
  const keep = (body, n) => {
    const list = get()
    list.push([body, n + 1, Date.now() + backoff(n)])
    put(list)
  }
  // A string body is sent as text/plain;charset=UTF-8 (no CORS preflight); setting the header
  // ourselves, or wrapping the beacon's body in a Blob, costs the page about 1 ms more per send.
  const post = (body, n = 0) =>
    w
      .fetch(url, { method: 'POST', body, keepalive: true })
      .then(
        (r) => (r.status > 499 || r.status == 429) && keep(body, n),
        () => keep(body, n),
      )
  return {
    // A page that is going away sends by sendBeacon (the browser delivers it after the page is
    // gone); a live page sends by fetch keepalive, whose answer it sees: a failure is kept for a
    // retry (a beacon's 5xx is never seen, so it is not used where a retry is still possible).
    // false from sendBeacon (absent, or over the browser's keepalive quota) falls back to fetch.
    send: (body, beacon) => {
      const nav = w.navigator
      if (!(beacon && nav.sendBeacon && nav.sendBeacon(url, body))) post(body)
    },
    retry: () => {
      const now = Date.now()
      const list = get()
      // Nothing kept (the usual case): no write.
      if (!list.length) return
      put(list.filter((x) => x[2] > now))
      for (const x of list) if (x[2] <= now) post(x[0], x[1])
    },
  }
}
