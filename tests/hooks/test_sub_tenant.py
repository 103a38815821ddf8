"""One connection, every subtenant: ``sub_tenant`` on the hook (and so on every operator) impersonates."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.mdsp import MdspHook

GATEWAY = "https://gateway.eu1.mindsphere.io"
TOKEN_URL = "https://acme.piam.eu1.mindsphere.io/oauth/token"
ROOT = f"{GATEWAY}/api/assetmanagement/v3/assets/root"


SUBS = ("sub-a", "sub-b", None)


def test_each_subtenant_gets_its_own_impersonation_token(mdsp_connection, requests_mock):
    conn = mdsp_connection(host=GATEWAY, login="acme-tech", password="s", extra={"tenant": "acme"})
    token = requests_mock.post(
        TOKEN_URL,
        [{"json": {"access_token": f"tok-{i}", "expires_in": 1800, "subtenant": sub}} for i, sub in enumerate(SUBS)],
    )
    api = requests_mock.get(ROOT, json={})
    for sub in SUBS:
        MdspHook(conn, sub_tenant=sub).request("GET", "/api/assetmanagement/v3/assets/root")
    forms = [parse_qs(r.text) for r in token.request_history]
    assert [f.get("subtenant") for f in forms] == [["sub-a"], ["sub-b"], None]
    assert all("iam-action" in f for f in forms[:2])
    assert len({r.headers["Authorization"] for r in api.request_history}) == 3


def test_sub_tenant_needs_tenant_credentials(mdsp_connection):
    conn = mdsp_connection(
        host=GATEWAY, extra={"auth_type": "user_token", "user_token": "x.y.z"}, login=None, password=None
    )
    with pytest.raises(MdspConfigError, match="sub_tenant needs a connection with auth_type tenant_credentials"):
        _ = MdspHook(conn, sub_tenant="sub-a").config
