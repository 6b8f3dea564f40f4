"""Decoding an answer's body into the generated attrs models, checked against the spec."""
