"""The connection standard: checks run against agencies' systems, runs, results and connection status."""
