"""`python -m panjereh` is the `panjereh` command."""

from panjereh.cli import main

main()
