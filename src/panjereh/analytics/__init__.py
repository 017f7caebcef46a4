"""The national dashboard: visit events, rollups, figures, fiscal-year mandates, reports and exports."""
