"""Xero: PKCE sign-in, token lifecycle, the xero-python wrapper and call limits."""
