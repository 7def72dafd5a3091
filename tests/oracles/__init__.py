"""Independent, hand-written reference oracles (no toolkit imports) used by the test-suite."""
