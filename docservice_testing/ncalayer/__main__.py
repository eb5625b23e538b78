"""``python -m docservice_testing.ncalayer``: the ``ncalayer-emulator`` console script."""

from docservice_testing.ncalayer.cli import main

raise SystemExit(main())
