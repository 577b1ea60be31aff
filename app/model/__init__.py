"""Plain dataclasses, enums and pure rules. Imports nothing from the project."""
