"""Credential types: flow names, cache identities without secrets, masked secrets, derived URLs."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_mdsp.auth import (
    AppCredentials,
    Credentials,
    RefreshTokenCredentials,
    TenantCredentials,
    UserTokenCredentials,
    piam_token_url,
    tms_token_url,
    token_keys_url,
)
from airflow_provider_mdsp.exceptions import MdspConfigError

from .helpers import CLIENT_SECRET, REFRESH_TOKEN

PIAM = "https://demo.piam.eu1.mindsphere.io/oauth/token"
TMS = "https://gateway.eu1.mindsphere.io/api/technicaltokenmanager/v3/oauth/token"
USER_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.USER-SECRET-SIG"

ALL: list[Credentials] = [
    TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM),
    TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM, sub_tenant="sub-1"),
    AppCredentials("cid", CLIENT_SECRET, "app", "1.0.0", "demo", "demo", TMS),
    UserTokenCredentials(USER_JWT),
    RefreshTokenCredentials("cid", CLIENT_SECRET, REFRESH_TOKEN, PIAM),
]


def test_each_flow_has_its_short_name():
    assert [c.flow for c in ALL] == [
        "tenant_credentials",
        "subtenant",
        "app_credentials",
        "user_token",
        "refresh_token",
    ]


@pytest.mark.parametrize("creds", ALL, ids=lambda c: c.flow)
def test_repr_identity_and_str_hide_every_secret(creds):
    basic = base64.b64encode(f"cid:{CLIENT_SECRET}".encode()).decode()
    for text in (repr(creds), str(creds), creds.identity):
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, USER_JWT, basic):
            assert secret not in text
    assert "<hidden>" in repr(creds)


@pytest.mark.parametrize("creds", ALL, ids=lambda c: c.flow)
def test_secrets_lists_what_a_log_masker_must_hide(creds):
    if creds.flow == "user_token":
        assert creds.secrets == (USER_JWT,)
    else:
        basic = base64.b64encode(f"cid:{CLIENT_SECRET}".encode()).decode()
        assert CLIENT_SECRET in creds.secrets
        assert basic in creds.secrets
    assert (REFRESH_TOKEN in creds.secrets) == (creds.flow == "refresh_token")


def test_identity_is_stable_and_changes_with_any_field_or_secret():
    base = TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM)
    variants = [
        TenantCredentials("cid2", CLIENT_SECRET, "demo", PIAM),
        TenantCredentials("cid", CLIENT_SECRET + "x", "demo", PIAM),
        TenantCredentials("cid", CLIENT_SECRET, "other", PIAM),
        TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM + "/x"),
        TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM, sub_tenant="s"),
    ]

    assert base.identity == TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM).identity
    assert len({base.identity, *(v.identity for v in variants)}) == 6
    assert base.identity.startswith("tenant_credentials:")


def test_user_token_strips_the_bearer_prefix():
    assert UserTokenCredentials("  bearer  abc.def.ghi ").token == "abc.def.ghi"
    assert UserTokenCredentials("Bearer abc").identity == UserTokenCredentials("abc").identity


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: TenantCredentials("", CLIENT_SECRET, "demo", PIAM), "login"),
        (lambda: TenantCredentials("cid", " ", "demo", PIAM), "password"),
        (lambda: TenantCredentials("cid", CLIENT_SECRET, "", PIAM), "tenant"),
        (lambda: TenantCredentials("cid", CLIENT_SECRET, "demo", "ftp://x/oauth/token"), "token_url"),
        (lambda: TenantCredentials("cid", CLIENT_SECRET, "demo", PIAM, sub_tenant=""), "sub_tenant"),
        (lambda: AppCredentials("cid", CLIENT_SECRET, "", "1.0", "h", "u", TMS), "app_name"),
        (lambda: AppCredentials("cid", CLIENT_SECRET, "a", "1.0", "h", "", TMS), "user_tenant"),
        (lambda: AppCredentials("cid", CLIENT_SECRET, "a", "1.0", "h", "u", "not a url"), "host"),
        (lambda: UserTokenCredentials("Bearer "), "user_token"),
        (lambda: RefreshTokenCredentials("cid", CLIENT_SECRET, "", PIAM), "refresh_token"),
    ],
)
def test_missing_fields_are_config_errors_naming_the_connection_field(build, field):
    with pytest.raises(MdspConfigError) as info:
        build()

    assert info.value.field == field
    assert f"`{field}`" in str(info.value)
    assert CLIENT_SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ("https://gateway.eu1.mindsphere.io", "https://demo.piam.eu1.mindsphere.io/oauth/token"),
        ("https://gateway.eu1.mindsphere.io/", "https://demo.piam.eu1.mindsphere.io/oauth/token"),
        ("gateway.cn1.mindsphere-in.cn", "https://demo.piam.cn1.mindsphere-in.cn/oauth/token"),
        ("https://GATEWAY.eu1.mindsphere.io:8443", "https://demo.piam.eu1.mindsphere.io:8443/oauth/token"),
        # Not a `gateway.` host: the token endpoint is assumed on the same origin.
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/oauth/token"),
        ("http://localhost:5000/some/path", "http://localhost:5000/oauth/token"),
        ("https://mdsp-proxy.corp.example", "https://mdsp-proxy.corp.example/oauth/token"),
    ],
)
def test_piam_token_url_from_the_gateway(gateway, expected):
    assert piam_token_url(gateway, "demo") == expected


def test_piam_token_url_needs_a_tenant_and_a_gateway():
    with pytest.raises(MdspConfigError) as no_tenant:
        piam_token_url("https://gateway.eu1.mindsphere.io", "")
    with pytest.raises(MdspConfigError) as bad_host:
        piam_token_url("ftp://gateway.eu1.mindsphere.io", "demo")

    assert (no_tenant.value.field, bad_host.value.field) == ("tenant", "host")


def test_token_keys_and_token_manager_urls():
    assert token_keys_url(PIAM) == "https://demo.piam.eu1.mindsphere.io/token_keys"
    assert token_keys_url("http://127.0.0.1:9/custom/token") == "http://127.0.0.1:9/token_keys"
    assert tms_token_url("https://gateway.eu1.mindsphere.io/") == TMS
    assert tms_token_url("gateway.eu1.mindsphere.io") == TMS
