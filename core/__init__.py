"""Campana's kernel: settings, database, events, auth, clock, scheduler, errors."""
