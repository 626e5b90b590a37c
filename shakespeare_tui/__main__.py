import sys

from shakespeare_tui.cli import main

sys.exit(main())
