"""Frontier Review Workstation: the Qt-free core."""

__version__ = "0.1.0"
