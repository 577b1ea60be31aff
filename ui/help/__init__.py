"""Help menu: the keyboard shortcut sheet (F1), the user guide and About (version, build hash)."""
