"""The demo school: a realistic, deterministic school year for demos, tests and benchmarks."""
