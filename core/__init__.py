"""Trame core: event store, projections, plugin host, accounts and web shell."""
