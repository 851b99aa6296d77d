"""Background sync with the backends."""
