"""Subcommands of the ``auditlab`` command line, one module each."""
