"""Sales force automation: accounts, contacts, leads, opportunities, activities, proposals, forecasts."""
