"""auditlab's benchmarks: ``python -m benchmarks`` (``make bench``) writes results.md.

Each figure is a function in its own module returning a ``Figure``; a
figure whose parts of auditlab are not importable yet says so in the
results instead of failing the run.
"""
