"""Readers of outside formats -> model objects: streaming, bounded, naming the file on error."""
