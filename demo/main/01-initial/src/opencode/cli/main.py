import argparse
from pathlib import Path

from opencode import __version__
from opencode.core.config import load_config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="opencode")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start a session")
    args = parser.parse_args(argv)
    config = load_config(Path.cwd())
    if args.command == "run":
        print(f"opencode {__version__} using {config['default_model']}")
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
