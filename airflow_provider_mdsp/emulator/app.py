"""Build the emulator's ASGI app: routers, error rendering, fault middleware."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from . import admin, auth
from .config import EmulatorConfig, load_config
from .errors import ApiError, OAuthError, S3Error
from .faults import FaultMiddleware, install_log_filter
from .responses import render_error
from .services.aggregates import routes as aggregates
from .services.assets import routes as assets
from .services.assets import type_routes as asset_types
from .services.bulk import routes as bulk
from .services.datalake import routes as datalake
from .services.datalake import storage_routes as datalake_storage
from .services.events import job_routes as event_jobs
from .services.events import routes as events
from .services.files import routes as files
from .services.files import rules_routes as file_rules
from .services.identity import routes as identity
from .services.tenants import routes as tenants
from .services.timeseries import patch_routes as timeseries_patch
from .services.timeseries import routes as timeseries
from .state import EmulatorState

ROUTERS = (
    auth,
    admin,
    assets,
    asset_types,
    timeseries,
    aggregates,
    events,
    files,
    file_rules,
    bulk,
    identity,
    datalake,
    datalake_storage,
    tenants,
    event_jobs,
    timeseries_patch,
)


def create_app(
    config: str | Path | dict[str, Any] | EmulatorConfig | None = None,
    faults: dict[str, Any] | None = None,
) -> FastAPI:
    """Create the emulator app.

    :param config: config file path, parsed dict or :class:`EmulatorConfig`; ``None`` = demo
    :param faults: initial fault settings (merged over the config's ``faults``)
    """
    cfg = load_config(config)
    if faults:
        cfg = replace(cfg, faults={**cfg.faults, **faults})
    state = EmulatorState(cfg)
    app = FastAPI(title="Insights Hub emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state
    for module in ROUTERS:
        app.include_router(module.router)

    async def error(request: Request, exc: Exception) -> Response:
        # Unknown paths and methods (Starlette's HTTPException) answer in the service's own error body too.
        return render_error(exc, request.url.path)

    for error_type in (ApiError, StarletteHTTPException, OAuthError, S3Error):
        app.add_exception_handler(error_type, error)
    app.add_middleware(FaultMiddleware, state=state)
    install_log_filter()
    return app
