// Entry point of oie.js: start the pixel for the <script data-tenant=...> that loaded it.
import { start } from './core.js'

try {
  start(window, document.currentScript || document.querySelector('script[src*="oie.js"]'))
} catch (e) {}
