"""Feedback: citizens' ratings of services and their reports of problems, with the agencies' replies."""
