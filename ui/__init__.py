"""PySide6 user interface: a thin main window and one module per screen."""
