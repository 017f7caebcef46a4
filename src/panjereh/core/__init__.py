"""Core helpers shared by every domain: identifiers, Persian text, the Jalali calendar."""
