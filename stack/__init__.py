"""How processes are launched.

- `stack.entry`: the one entry point of every role (`python -m stack.entry api|worker|beat|flower|migrate`),
  used by `make run` and by docker-compose alike.
- `stack.embedded`: embedded PostgreSQL and Redis for `make run` and `make test` (development only).
- `stack.dev`: the `make run` supervisor.

`api/`, `workers/` and `shared/` never import this package.
"""
