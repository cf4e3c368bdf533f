"""Pure functions DataFrame -> DataFrame or plotly Figure."""
