import sys

from localgrid.cli import main

sys.exit(main())
