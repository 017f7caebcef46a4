"""Notifications: SMS, e-mail and the in-portal inbox behind one interface."""
