"""Maintenance scripts of the repository, run by make targets; not shipped in the package."""
