"""Who a visitor is: signed identity tokens from /go, checked by /track and /personalize."""
