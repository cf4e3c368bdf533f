"""Parameterised notebooks run with papermill, exported to self-contained HTML."""
