"""``mdsp-emulator``: run the local Insights Hub emulator from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .config import (
    DEMO_APP_CLIENT_ID,
    DEMO_APP_SECRET,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_READER_ID,
    DEMO_READER_SECRET,
    DEMO_SUBTENANT,
    ConfigError,
    EmulatorConfig,
    demo_config,
    load_config,
)
from .faults import FaultSettings, FaultSettingsError


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``mdsp-emulator``."""
    p = argparse.ArgumentParser(
        prog="mdsp-emulator",
        description="Local Siemens Insights Hub (MindSphere) emulator for tests, demos and offline DAGs.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8089, help="port to bind; 0 picks a free one (default 8089)")
    p.add_argument("--config", help="JSON (or TOML) config file; default: the built-in demo tenant")
    p.add_argument("--seed", type=int, help="seed of the demo data and of the fault RNG (default 0)")
    p.add_argument("--latency-ms", type=float, help="add this delay to every API call")
    p.add_argument("--rate-limit", help="N/SECONDS: allow N API calls per window per client id, then 429")
    p.add_argument("--retry-after", type=int, help="Retry-After seconds sent with a 429")
    p.add_argument("--error-rate", type=float, help="fraction of API calls answered 503")
    p.add_argument("--drop-rate", type=float, help="fraction of API calls whose connection is cut")
    p.add_argument("--token-lifetime", type=int, help="access-token lifetime in seconds (default 1800)")
    p.add_argument(
        "--quotas",
        help="N/M: API calls per tenant and endpoint per 30 s / per hour (either may be empty), or 'off' "
        "(default 2000/50000)",
    )
    p.add_argument("--faults-on-token-endpoints", action="store_true", help="also delay/fail token endpoints")
    steps = p.add_mutually_exclusive_group()
    steps.add_argument(
        "--job-step",
        type=float,
        dest="job_step",
        help="seconds per state of TS Bulk import, Data Lake import and event jobs (default 1)",
    )
    steps.add_argument("--bulk-step", type=float, dest="job_step", help="old name of --job-step")
    p.add_argument(
        "--page-cache", type=int, help="keep this many rendered time-series pages, for client benchmarks (default 0)"
    )
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Return the config the command line asks for: its file (or the demo tenant) with the flags given.

    :param args: parsed arguments
    :raises ConfigError: naming the field of the file that is wrong
    """
    config = load_config(args.config) if args.config else demo_config()
    return config.with_overrides(seed=args.seed, job_step_s=args.job_step, page_cache=args.page_cache)


def faults_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the fault flags that were given.

    :param args: parsed arguments
    """
    mapping = {
        "latency_ms": args.latency_ms,
        "rate_limit": args.rate_limit,
        "retry_after_s": args.retry_after,
        "error_rate": args.error_rate,
        "drop_rate": args.drop_rate,
        "token_lifetime_s": args.token_lifetime,
        "seed": args.seed,
        "token_endpoints": args.faults_on_token_endpoints or None,
        "quotas": args.quotas,
    }
    return {k: v for k, v in mapping.items() if v is not None}


def banner(url: str, using_demo: bool) -> str:
    """Return the start-up text: base URL, token URL and (for the demo tenant) credentials.

    :param url: base URL
    :param using_demo: the built-in demo config is in use
    """
    lines = [
        f"Insights Hub emulator listening on {url}",
        f"  token URL (PIAM):     {url}/oauth/token",
        f"  token keys:           {url}/token_keys",
        f"  app token (TMS):      {url}/api/technicaltokenmanager/v3/oauth/token",
        f"  admin:                {url}/_emulator/stats | /_emulator/faults | /_emulator/demo",
    ]
    if using_demo:
        lines += [
            "Demo tenant 'demo':",
            f"  technical user:  client_id={DEMO_CLIENT_ID} client_secret={DEMO_CLIENT_SECRET} (all scopes)",
            f"  read-only user:  client_id={DEMO_READER_ID} client_secret={DEMO_READER_SECRET}",
            f"  app credentials: client_id={DEMO_APP_CLIENT_ID} client_secret={DEMO_APP_SECRET}"
            " appName=mdspdemoapp appVersion=1.0.0 hostTenant=demo userTenant=demo",
            f"  subtenant:       {DEMO_SUBTENANT}",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted.

    :param argv: command-line arguments (default: ``sys.argv[1:]``)
    """
    import uvicorn

    from .app import create_app
    from .server import _bind

    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        faults = faults_from_args(args)
        FaultSettings.from_dict({**config.faults, **faults})
    except (ConfigError, FaultSettingsError, OSError) as exc:
        print(f"mdsp-emulator: {exc}", file=sys.stderr)
        return 2
    app = create_app(config, faults)
    sock = _bind(args.host, args.port)
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    print(banner(url, args.config is None), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level=args.log_level, access_log=False, lifespan="off"))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
