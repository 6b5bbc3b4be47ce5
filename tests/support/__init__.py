"""Helpers shared by the test areas, imported as ``support.<module>`` (``tests`` is on the path)."""
