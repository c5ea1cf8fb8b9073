// Entry point of oie-p.js: personalize the page for the visitor the pixel knows.
import { run } from './personalize.js'

try {
  run(window, document.currentScript || document.querySelector('script[src*="oie-p.js"]'))
} catch (e) {}
