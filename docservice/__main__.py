import sys

from docservice.cli import main

sys.exit(main())
