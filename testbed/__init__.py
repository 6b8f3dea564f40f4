"""The local servers the tests and the benchmarks run against: PostgreSQL and Redis (Debian's
packages, started as a non-root user in temp dirs on free loopback ports) and the fake ESI in a
process of its own."""
