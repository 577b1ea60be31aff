"""PyInstaller entry point for the one-folder bundle: the same CLI as the `frontier-review` script."""

from app.cli import main

raise SystemExit(main())
