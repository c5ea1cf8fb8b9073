"""/personalize: a known visitor's whitelisted profile, for the page to greet them."""
