"""Tests of the NumPy engine (a package, so its module names cannot clash with other folders')."""
