"""`nox -s bench`: speed figures, each printed with its command and as a ratio to a baseline
measured in the same run, and written to .bench/results.json under flat keys."""
