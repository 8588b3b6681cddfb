"""The core's read models: territories and their plugins, accounts and roles, the journal."""
