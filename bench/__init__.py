"""Benchmarks (`make bench`): each module measures one bar of DESIGN.md 8 on a real local stack."""
