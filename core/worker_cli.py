"""`python -m core worker`."""


def register(sub) -> None:
    p = sub.add_parser("worker", help="run the scheduled jobs and serve /metrics")
    p.add_argument("--once", action="store_true", help="run every job once, now, and exit")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from core import worker

    return worker.main(once=args.once)
