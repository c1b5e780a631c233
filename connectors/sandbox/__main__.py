"""Run the vendor sandbox in the foreground: python -m connectors.sandbox --port 8765."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from connectors.sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.sandbox",
        description="Local sandbox speaking the Anthropic and OpenAI admin usage/cost APIs and "
        "Google's token endpoint and Cloud Monitoring timeSeries.list.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--google-keys",
        type=Path,
        default=Path("var/sandbox-google-keys.json") if Path("var").is_dir() else None,
        help="where the public halves of sandbox Google keys are kept across restarts",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(message)s")
    server = SandboxServer((args.host, args.port), google_keys=args.google_keys)
    host, port = server.server_address[:2]
    logging.getLogger("connectors.sandbox").info("listening on http://%s:%s", host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
