"""Layer 5, the wire: sending a request and reading its body, sync or async, within the deadline."""
