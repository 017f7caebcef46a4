"""HTML to PDF with WeasyPrint, with the Vazirmatn font from the npm-installed assets."""

from __future__ import annotations

from pathlib import Path

from panjereh.core.config import Settings

FONT_WEIGHTS = {400: "Regular", 700: "Bold"}


def font_faces(settings: Settings) -> str:
    """@font-face rules pointing at the Vazirmatn TTF files (no network fetch while rendering)."""
    folder = settings.assets_dir / "vazirmatn" / "fonts" / "ttf"
    rules = []
    for weight, name in FONT_WEIGHTS.items():
        path = (folder / f"Vazirmatn-{name}.ttf").resolve()
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `make assets` (npm ci) first")
        rules.append(
            f"@font-face {{ font-family: 'Vazirmatn'; font-weight: {weight}; src: url('{path.as_uri()}'); }}"
        )
    return "\n".join(rules)


def html_to_pdf(html: str, base_dir: Path | None = None) -> bytes:
    """Render a full HTML page (it brings its own @font-face rules) to PDF bytes."""
    # Imported on the first PDF, not with the app: WeasyPrint (with Pango through cffi) was a quarter of
    # the application's import, which each web process pays before it serves its first request.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    document = HTML(string=html, base_url=str(base_dir or Path.cwd()))
    pdf = document.write_pdf(font_config=FontConfiguration())
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return pdf
