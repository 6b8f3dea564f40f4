"""Layer 2, coalescing: identical requests in flight share one answer."""
