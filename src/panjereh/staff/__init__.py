"""Agency staff: who works for which agency in which role, the platform's operators, and the audit trail."""
