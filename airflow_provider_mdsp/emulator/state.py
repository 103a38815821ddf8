"""Emulator state: one backend per tenant (created lazily), tokens, faults and counters.

As in moto, each tenant's backend composes the per-service models; the tenant is taken from the
token's ``ten`` claim. ``POST /_emulator/reset`` drops every backend and counter.

Not emulated: subtenant data partitions (a subtenant token reaches its parent tenant's data and
only carries the ``subtenant`` claim).
"""

from __future__ import annotations

import threading
from typing import Any

from .clock import EmulatorClock
from .config import AppCredential, ClientCredential, EmulatorConfig, TenantConfig
from .faults import FaultInjector, FaultSettings
from .services.aggregates.models import AggregateBackend
from .services.assets.models import AssetBackend
from .services.assets.types import TypeRegistry
from .services.bulk.models import BulkBackend
from .services.datalake.jobs import ImportJobs
from .services.datalake.store import LakeStore
from .services.events.jobs import EventJobs
from .services.events.models import EventBackend
from .services.files.models import FileBackend
from .services.files.rules import FileDeleteRules
from .services.identity.models import IdentityBackend
from .services.jobsteps import JobClock
from .services.timeseries.generators import SeriesGenerator
from .services.timeseries.models import TimeSeriesBackend
from .stats import Stats
from .tokens import TokenService


class TenantBackend:
    """All service models of one tenant.

    :param tenant: tenant name
    :param config: emulator config
    :param clock: the emulator's clock, read by every model
    """

    def __init__(self, tenant: str, config: EmulatorConfig, clock: EmulatorClock) -> None:
        self.tenant = tenant
        self.clock = clock
        self.generators: dict[tuple[str, str], SeriesGenerator] = {}
        self.types = TypeRegistry(tenant, config.stale_etag_status)
        self.assets = AssetBackend(tenant, self.types, config.stale_etag_status)
        self.timeseries = TimeSeriesBackend(
            self.assets.property_set, self._generator, clock.now_ms, config.page_cache, self._twin_type
        )
        self.aggregates = AggregateBackend(self.timeseries, clock.now_ms)
        self.events = EventBackend(tenant, config.stale_etag_status, self._asset_info, clock.now_ms)
        self.files = FileBackend(config.stale_etag_status, config.file_min_part_bytes, clock.now_ms)
        self.file_rules = FileDeleteRules(self.files, clock.now_ms, config.file_delete_rule_limit)
        job_clock = JobClock(config.job_step_s, clock.time)
        self.bulk = BulkBackend(self.files, self.timeseries, job_clock)
        self.identity = IdentityBackend(tenant)
        self.event_jobs = EventJobs(self.events, job_clock)
        self.lake = LakeStore(tenant, clock.time)
        self.lake_jobs = ImportJobs(self.lake, self.timeseries, job_clock)
        tenant_config = config.tenant(tenant)
        if tenant_config is not None:
            self.identity.add_users(tenant_config.users)
            if tenant_config.demo_data:
                from .seed import seed_tenant

                seed_tenant(self, config.seed)

    def _generator(self, entity: str, ps: str) -> SeriesGenerator | None:
        return self.generators.get((entity, ps))

    def _twin_type(self, entity: str) -> str | None:
        asset = self.assets.assets.get(entity)
        return None if asset is None else asset.get("twinType")

    def _asset_info(self, entity: str) -> dict[str, Any] | None:
        asset = self.assets.assets.get(entity)
        if asset is None:
            return None
        return {"assetTypeId": asset["typeId"], "parentAssetId": asset["parentId"]}

    def advance(self) -> None:
        """Move time-driven state forward (bulk import jobs, Data Lake import jobs, event jobs, file delete rules)."""
        self.file_rules.run_due()
        self.bulk.advance()
        self.lake_jobs.advance()
        self.event_jobs.advance()


class EmulatorState:
    """Everything one emulator process holds.

    :param config: the emulator config
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = EmulatorClock()
        self.faults = FaultInjector(FaultSettings.from_dict(config.faults), self.clock.monotonic, self.clock.time)
        self.stats = Stats()
        self.tokens = TokenService(
            self.token_lifetime, config.refresh_token_lifetime_s, config.refresh_token_reuse, clock=self.clock.time
        )
        self._backends: dict[str, TenantBackend] = {}
        self._lock = threading.Lock()

    def token_lifetime(self) -> int:
        """Return the current access-token lifetime (the fault override wins)."""
        return self.faults.settings.token_lifetime_s or self.config.token_lifetime_s

    def backend(self, tenant: str) -> TenantBackend:
        """Return the tenant's backend, creating (and seeding) it on first use.

        :param tenant: tenant name
        """
        backend = self._backends.get(tenant)
        if backend is None:
            with self._lock:
                backend = self._backends.get(tenant)
                if backend is None:
                    backend = self._backends[tenant] = TenantBackend(tenant, self.config, self.clock)
        backend.advance()
        return backend

    def reset(self) -> None:
        """Drop all tenant state, refresh tokens and counters, back to wall time; keep config, keys, faults."""
        with self._lock:
            self._backends.clear()
        self.clock.reset()
        self.tokens.reset()
        self.stats.reset()
        self.faults.configure(self.faults.settings)

    def find_client(self, client_id: str) -> tuple[TenantConfig, ClientCredential] | None:
        """Return the tenant and credential of a technical client id.

        :param client_id: OAuth client id
        """
        for tenant in self.config.tenants:
            for cred in tenant.credentials:
                if cred.client_id == client_id:
                    return tenant, cred
        return None

    def find_app(self, client_id: str) -> AppCredential | None:
        """Return the app credential with this client id.

        :param client_id: app client id
        """
        return next((a for a in self.config.apps if a.client_id == client_id), None)
