"""The coarse trace of who opened a share: the browser family and the address's network, never more.

The holder sees each opening of his share; enough to tell a bank's office from a stranger's phone, not
enough to find a person (docs/protocols/document-sharing.md, § Opening a share).
"""

from __future__ import annotations

import ipaddress

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python", "Python"),
    ("okhttp", "Android app"),
    ("Java/", "Java"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def coarse_agent(user_agent: str | None) -> str:
    """The browser family and the system ("Chrome on Android"), never the whole user-agent string."""
    text = (user_agent or "")[:1000]
    browser = next((name for mark, name in _BROWSERS if mark.lower() in text.lower()), "")
    system = next((name for mark, name in _SYSTEMS if mark in text), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "other"


def coarse_network(address: str | None) -> str:
    """The address's network (IPv4 /24, IPv6 /48): enough to tell two places apart, not to find a person."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
