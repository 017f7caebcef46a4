"""``python -m panjereh.registries``: serve the simulated registries."""

import argparse
import os

from panjereh.registries.population import DEFAULT_SEED, DEFAULT_SIZE
from panjereh.registries.server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse the command line (defaults from ``PANJEREH_REGISTRY_TOKEN``) and serve."""
    parser = argparse.ArgumentParser(prog="python -m panjereh.registries", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PANJEREH_REGISTRIES_PORT", "8100")))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--token", default=os.environ.get("PANJEREH_REGISTRY_TOKEN", "dev-registry-token"))
    parser.add_argument("--admin-token", default=os.environ.get("PANJEREH_REGISTRY_ADMIN_TOKEN"))
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.seed, args.size, args.token, args.admin_token, args.log_level)


if __name__ == "__main__":
    main()
