"""`python -m core <group> <command>`: the command-line interface."""

import sys

from core.cli import main

sys.exit(main())
