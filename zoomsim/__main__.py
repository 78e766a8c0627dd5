"""``python -m zoomsim``: serve the sandbox until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from werkzeug.serving import make_server

from shared.logging import configure_logging
from zoomsim.app import create_app
from zoomsim.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_USERS,
    ServerSettings,
)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ZOOM_SANDBOX_{name}", default)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m zoomsim", description="Local Zoom API sandbox.")
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", "9090")), help="0 picks a free port")
    parser.add_argument("--account-id", default=_env("ACCOUNT_ID", DEFAULT_ACCOUNT_ID))
    parser.add_argument("--client-id", default=_env("CLIENT_ID", DEFAULT_CLIENT_ID))
    parser.add_argument("--client-secret", default=_env("CLIENT_SECRET", DEFAULT_CLIENT_SECRET))
    parser.add_argument(
        "--users",
        default=_env("USERS", ",".join(DEFAULT_USERS)),
        help="comma-separated host emails",
    )
    parser.add_argument("--webhook-url", default=_env("WEBHOOK_URL", "") or None, help="where to send events")
    parser.add_argument(
        "--webhook-secret", default=_env("WEBHOOK_SECRET", "") or None, help="their secret token"
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        default=_env("QUIET", "") not in ("", "0", "false"),
        help="do not log each request",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HALAKA_ROLE", "sandbox")
    configure_logging("INFO")  # the project's JSON lines on stderr, like every other process
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    settings = ServerSettings(
        account_id=args.account_id,
        client_id=args.client_id,
        client_secret=args.client_secret,
        users=tuple(u.strip() for u in args.users.split(",") if u.strip()),
        log_requests=not args.quiet,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
    )
    server = make_server(args.host, args.port, create_app(settings), threaded=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(target=server.serve_forever, name="zoomsim-server", daemon=True)
    serving.start()
    print(f"zoomsim listening on http://{args.host}:{server.server_port}", flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
