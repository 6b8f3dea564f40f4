"""What the tests are made with: servers that misbehave on purpose, the fake's helpers, worker
processes, and the runners of the docs, the newcomer check and the mutation pass."""
