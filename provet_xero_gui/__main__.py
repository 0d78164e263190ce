"""`python -m provet_xero_gui` runs the same entry point as the `provet-xero` script."""

import sys

from provet_xero_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
