"""relays: the météo page becomes lifecycle events, events become deliveries to subscribers."""

__version__ = "0.1.0"
