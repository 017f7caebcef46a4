"""Server-rendered Persian (right-to-left) pages; they work without JavaScript."""
