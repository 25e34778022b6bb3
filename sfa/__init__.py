"""Sales force automation.

Accounts, contacts, leads, opportunities, activities, proposals, forecasts.
"""
