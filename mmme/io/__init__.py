"""Readers, one module per format, each producing mmme's data model."""
