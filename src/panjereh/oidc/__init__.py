"""The OpenID Connect provider agencies' apps log citizens in with."""
