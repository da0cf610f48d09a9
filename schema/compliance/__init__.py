"""Compliance gap checks over a ROPA document: pure rules, no I/O."""
