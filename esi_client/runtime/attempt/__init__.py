"""Layer 4, the attempt: one request, and the pure decision to retry, wait or raise."""
