"""Connection fields → settings and credentials: every mistake is caught before any network call."""

from __future__ import annotations

import pytest

from airflow_provider_mdsp.auth import AppCredentials, RefreshTokenCredentials, TenantCredentials, UserTokenCredentials
from airflow_provider_mdsp.exceptions import MdspConfigError
from airflow_provider_mdsp.hooks.connection import config_from_connection

GATEWAY = "https://gateway.eu1.mindsphere.io"
SECRET = "s3cr3t-value-never-shown"


def config(host=GATEWAY, login="cid", password=SECRET, **extra):
    return config_from_connection(host, login, password, extra)


def test_tenant_credentials_default_and_token_url_derived_from_gateway():
    cfg = config(tenant="acme")
    assert isinstance(cfg.credentials, TenantCredentials)
    assert cfg.credentials.token_url == "https://acme.piam.eu1.mindsphere.io/oauth/token"
    assert cfg.settings.gateway_url == GATEWAY
    assert cfg.settings.timeout == (10.0, 60.0)
    assert cfg.tenant == "acme"
    assert cfg.shared_cache is False


def test_bare_region_expands_to_gateway_and_explicit_token_url_wins():
    cfg = config(host="eu1", tenant="acme", auth_url="https://login.example.com/oauth/token")
    assert cfg.settings.gateway_url == GATEWAY
    assert cfg.credentials.token_url == "https://login.example.com/oauth/token"


def test_subtenant_impersonation():
    cfg = config(tenant="acme", sub_tenant="plant7")
    assert cfg.credentials.sub_tenant == "plant7"
    assert cfg.credentials.flow == "subtenant"


def test_app_credentials_fields_and_tms_url():
    cfg = config(auth_type="app_credentials", app_name="dash", app_version="1.2.0", host_tenant="acme")
    creds = cfg.credentials
    assert isinstance(creds, AppCredentials)
    assert (creds.app_name, creds.app_version, creds.host_tenant, creds.user_tenant) == (
        "dash",
        "1.2.0",
        "acme",
        "acme",
    )
    assert creds.token_url == f"{GATEWAY}/api/technicaltokenmanager/v3/oauth/token"
    assert cfg.tenant == "acme"


def test_app_credentials_read_from_a_pasted_client_id():
    cfg = config(login="acme-flowdash-2.0.1-a1b2", auth_type="app_credentials", user_tenant="customer1")
    creds = cfg.credentials
    assert (creds.host_tenant, creds.app_name, creds.app_version) == ("acme", "flowdash", "2.0.1")
    assert creds.user_tenant == "customer1"


def test_user_token_and_refresh_token_flows():
    cfg = config(login=None, password=None, auth_type="user_token", user_token="Bearer abc.def.ghi")
    assert isinstance(cfg.credentials, UserTokenCredentials)
    cfg = config(auth_type="refresh_token", tenant="acme", refresh_token="r-tok")
    assert isinstance(cfg.credentials, RefreshTokenCredentials)
    assert cfg.credentials.token_url.startswith("https://acme.piam.eu1")


def test_network_options():
    cfg = config(tenant="acme", verify_tls="false", proxy="http://proxy.corp:3128", timeout="30", max_retries=2)
    assert cfg.settings.verify is False
    assert cfg.settings.proxy == "http://proxy.corp:3128"
    assert cfg.settings.read_timeout == 30.0
    assert cfg.settings.max_retries == 2


def test_ca_bundle_path_is_used_for_verification(tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert config(tenant="acme", ca_bundle=str(bundle)).settings.verify == str(bundle)


def test_legacy_prefixed_extras_are_accepted():
    assert config(extra__mdsp__tenant="acme").tenant == "acme"


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"host": "", "tenant": "acme"}, "host", "gateway"),
        ({"host": "ftp://gateway.eu1.mindsphere.io", "tenant": "acme"}, "host", "gateway URL"),
        ({"host": "https://user:pw@gateway.eu1.mindsphere.io", "tenant": "acme"}, "host", "credentials"),
        ({}, "tenant", "tenant name"),
        ({"tenant": "ac me"}, "tenant", "not a tenant name"),
        ({"tenant": "acme", "auth_type": "oauth"}, "auth_type", "tenant_credentials"),
        ({"login": "", "tenant": "acme"}, "login", "Client ID"),
        ({"password": "", "tenant": "acme"}, "password", "Client Secret"),
        ({"auth_type": "app_credentials", "app_version": "1.0.0", "host_tenant": "acme"}, "app_name", "Cockpit"),
        ({"auth_type": "app_credentials", "app_name": "x", "host_tenant": "acme"}, "app_version", "Cockpit"),
        ({"auth_type": "user_token"}, "user_token", "bearer token"),
        ({"auth_type": "refresh_token", "tenant": "acme"}, "refresh_token", "refresh token"),
        ({"tenant": "acme", "auth_url": "not a url"}, "auth_url", "oauth/token"),
        ({"tenant": "acme", "sub_tenant": "s", "auth_type": "refresh_token", "refresh_token": "r"}, "sub_tenant", ""),
        ({"tenant": "acme", "verify_tls": "maybe"}, "verify_tls", "true or false"),
        ({"tenant": "acme", "ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle", "not a file"),
        ({"tenant": "acme", "proxy": "proxy.corp"}, "proxy", "http://proxy"),
        ({"tenant": "acme", "timeout": "soon"}, "timeout", "number"),
        ({"tenant": "acme", "timeout": 0}, "timeout", "positive"),
        ({"tenant": "acme", "max_retries": "-1"}, "max_retries", "positive"),
        ({"tenant": "acme", "tennant": "typo"}, "tennant", "Unknown"),
    ],
)
def test_bad_fields_name_the_field_and_never_the_secret(kwargs, field, hint):
    with pytest.raises(MdspConfigError) as err:
        config(**kwargs)
    assert err.value.field == field
    assert hint in str(err.value)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"host": "***", "tenant": "acme"}, "host"),
        ({"login": "***", "tenant": "acme"}, "login"),
        ({"password": "***", "tenant": "acme"}, "password"),
        ({"tenant": "***"}, "tenant"),
        ({"tenant": "acme", "shared_cache": "***"}, "shared_cache"),
        ({"tenant": "acme", "auth_url": " *** "}, "auth_url"),
        ({"auth_type": "user_token", "user_token": "***"}, "user_token"),
        ({"auth_type": "refresh_token", "tenant": "acme", "refresh_token": "***"}, "refresh_token"),
        ({"tenant": "acme", "proxy": "***"}, "proxy"),
    ],
)
def test_airflows_mask_is_never_taken_for_a_value(kwargs, field):
    with pytest.raises(MdspConfigError) as err:
        config(**kwargs)
    assert err.value.field == field
    assert f"Connection field '{field}' holds '***', the mask Airflow shows" in str(err.value)


def test_the_names_before_the_masking_fix_point_to_their_new_names():
    with pytest.raises(MdspConfigError) as err:
        config(tenant="acme", token_url="https://login.example.com/oauth/token", shared_token_cache=True)
    assert "'shared_token_cache' is now 'shared_cache'" in str(err.value)
    assert "'token_url' is now 'auth_url'" in str(err.value)


def test_iam_action_overrides_the_unconfirmed_value_only_with_a_sub_tenant():
    cfg = config(tenant="acme", sub_tenant="acme-east", iam_action="custom.impersonation")
    assert cfg.credentials.iam_action == "custom.impersonation"
    assert config(tenant="acme", sub_tenant="acme-east").credentials.iam_action is None
    with pytest.raises(MdspConfigError) as err:
        config(tenant="acme", iam_action="custom.impersonation")
    assert err.value.field == "iam_action"
    assert "sub_tenant" in str(err.value)
