"""Benchmarks (`make bench`): each module measures one bar of the README's Benchmarks table."""
