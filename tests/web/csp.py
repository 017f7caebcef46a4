"""Watch a browser page for content-security-policy violations (and the console errors that report them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.conftest import AXE

# Runs before any page script (an init script is the browser's own, not subject to the page's policy).
_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations = window.__cspViolations || [];
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
      `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


class Watch:
    """The violations and console errors a page met, across navigations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(_LISTENER)
        page.on(
            "console", lambda message: self.console.append(message.text) if message.type == "error" else None
        )
        page.on("pageerror", lambda error: self.console.append(str(error)))

    def violations(self) -> list[str]:
        """This document's violations so far (each navigation starts a new list)."""
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        return found


def run_axe(page: Any, script: str = "axe.run()") -> Any:
    """Run axe on the page without an inline <script> (which the policy would refuse)."""
    page.evaluate(Path(AXE).read_text())
    return page.evaluate(f"async () => await {script}")
