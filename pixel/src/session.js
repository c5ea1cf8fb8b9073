// Sessions: a new random id after 30 minutes without activity.
import { rid } from './util.js'

export const IDLE = 30 * 60 * 1000

/** Records activity at `now`; on a new session returns the previous last-seen time (or -1). */
export const touch = (st, now) => {
  let prev = 0
  if (!st.sid || !(now - st.seen <= IDLE)) {
    prev = st.seen || -1
    st.sid = rid()
    st.visit = (st.visit || 0) + 1
  }
  st.seen = now
  return prev
}
