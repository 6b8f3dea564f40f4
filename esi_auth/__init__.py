"""EVE SSO and tokens (issue 4)."""
