"""``python -m segkit COMMAND ...``: the same as the ``segkit`` console script."""
from segkit.cli import main

main()
