"""Dialogs (modal workflows) used by several screens."""
