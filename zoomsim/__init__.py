"""A local HTTP server that behaves like the Zoom API, for tests, benchmarks and the dev launcher.

Production code never imports this package. Start it with ``python -m zoomsim``; drive it from
Python with :class:`zoomsim.control.SandboxControl`.
"""
