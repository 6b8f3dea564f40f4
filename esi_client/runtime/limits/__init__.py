"""Layer 3, the limits: ESI's error budget and rate-limit buckets, local or in Redis."""
