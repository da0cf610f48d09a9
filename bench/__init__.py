"""Benchmarks and the synthetic register they load: outside the product package and the image.

`python -m bench` (`make bench`) runs a short version of each and prints one table of the
issue's targets; each module also runs alone (`python -m bench.lineage --help`).
"""
