// Pure helpers that turn DOM state into event props; no listeners, no I/O.

export const DEPTHS = [25, 50, 75, 90, 100]
const CTA = 'button,[role=button],[data-oie-cta],input[type=submit],input[type=button]'

const attr = (el, a) => el.getAttribute(a) || ''
const squash = (s) => s.trim().replace(/\s+/g, ' ').slice(0, 100)

/** How far down the page the viewport's bottom edge is, in percent (reads layout). */
export const scrolled = (w) => {
  const h = w.document.documentElement.scrollHeight
  return h ? ((w.scrollY + w.innerHeight + 1) / h) * 100 : 0
}

/** The link, button or CTA a click landed in, or null. */
export const clickable = (t) => (t && t.closest ? t.closest('a,' + CTA) : null)

/** `click` props: never an input's value, only labels and attributes. */
export const clickProps = (el) => {
  const c = attr(el, 'class')
  return {
    tag: el.tagName.toLowerCase(),
    el_id: el.id,
    classes: squash(c),
    text: squash(el.tagName == 'INPUT' ? attr(el, 'value') : el.textContent),
    href: typeof el.href == 'string' ? el.href : '',
    cta: el.matches(CTA) || /\b(btn|cta|button)/i.test(c),
  }
}

/** `form_start` props (attributes, because inputs named "id"/"name" shadow form.id/name). */
export const formInfo = (f) => ({ form_id: attr(f, 'id'), form_name: attr(f, 'name') })

/** `form_submit` props: field names, and only the first email value (omitted when empty). */
export const formProps = (f) => {
  const p = formInfo(f)
  const fields = []
  let email
  for (const e of f.elements) {
    const n = e.name
    if (!n || /^(submit|button|reset)$/.test(e.type)) continue
    if (!fields.includes(n)) fields.push(n)
    if (!email && (e.type == 'email' || /email/i.test(n))) email = e.value.trim()
  }
  p.fields = fields
  if (email) p.email = email
  return p
}

/** Engaged-time meter: the 5 s after each interaction count, while the page is visible. */
export const meter = () => {
  let last = 0
  let upto = 1 / 0
  let ms = 0
  const credit = (t) => {
    const end = Math.min(t, last + 5e3)
    if (end > upto) ms += end - upto
    upto = Math.max(upto, end)
  }
  return {
    /** An interaction at t; returns the time accumulated so far. */
    hit: (t) => {
      credit(t)
      last = upto = t
      return ms
    },
    /** The page went hidden at t: nothing counts until the next interaction. */
    stop: (t) => {
      credit(t)
      last = 0
    },
    /** Reads and resets the accumulated time. */
    take: (t) => {
      credit(t)
      const m = Math.round(ms)
      ms = 0
      return m
    },
  }
}

/** `reading_speed` props from the words on the page, the deepest milestone and active ms. */
export const reading = (text, depth, ms) => {
  const words = Math.round((text.split(/\s+/).filter(Boolean).length * depth) / 100)
  const seconds = Math.round(ms / 1e3)
  return words && seconds >= 10 ? { wpm: Math.round((words * 60) / seconds), words, seconds } : null
}
