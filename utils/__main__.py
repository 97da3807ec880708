"""Command line: ``python -m utils server start|stop|status``, ``lab``, ``clean``, ``progress``."""

from __future__ import annotations

import argparse
import sys

from utils import lab as lab_module
from utils import tracking


def _ask(question: str) -> bool:
    """Ask a yes/no question in the terminal; anything but yes is no."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Run the course command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m utils", description="The MLOps course's local services."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    server = sub.add_parser("server", help="the course's local MLflow tracking server")
    server.add_argument("action", choices=["start", "stop", "status"])
    server.add_argument("--port", type=int, default=None, help="port to start on")

    lab = sub.add_parser("lab", help="start the tracking server and JupyterLab (make lab)")
    lab.add_argument("--port", type=int, default=None, help="JupyterLab's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")

    clean = sub.add_parser(
        "clean",
        help="stop the server of a state folder and delete it, asking first if it holds runs",
    )
    clean.add_argument("--state", required=True, help="the state folder (make clean: .course)")
    clean.add_argument("--yes", action="store_true", help="delete runs without asking")

    sub.add_parser(
        "progress",
        help="your exercise progress (--delete forgets it, --sync uploads it to a class server)",
        add_help=False,
    )

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["progress"]:
        # deferred: utils.progress loads requests: +87 ms to import __main__
        from utils import progress

        return progress.main(argv[1:])
    args = parser.parse_args(argv)
    try:
        if args.command == "clean":
            confirm = None
            if args.yes:
                confirm = lambda question: True  # noqa: E731
            elif sys.stdin.isatty():
                confirm = _ask
            print(tracking.clean_state(args.state, confirm))
            return 0
        if args.command == "lab":
            return lab_module.run(open_browser=not args.no_browser, port=args.port)
        if args.action == "start":
            print(tracking.start(port=args.port).message)
        elif args.action == "stop":
            stopped = tracking.stop()
            print("Stopped the course server." if stopped else "No course server was running.")
        else:
            current = tracking.status()
            print(current.message)
            return 0 if current.running else 3
    except (tracking.TrackingServerError, ValueError, TypeError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        print(
            f"error: the course cannot write its state folder{where}: {err.strerror or err}. "
            "Free some disk space or make the folder writable, or point MLOPS_COURSE_STATE "
            "at a writable folder.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
