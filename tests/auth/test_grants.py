"""The exact token request of every flow (insights-hub-api.md §2), response parsing, and errors."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from urllib.parse import parse_qs

import pytest
import requests

from airflow_provider_mdsp.auth import (
    SUBTENANT_IAM_ACTION,
    AppCredentials,
    RefreshTokenCredentials,
    TenantCredentials,
    Token,
    UserTokenCredentials,
    fetch_app_token,
    fetch_tenant_token,
    obtain_token,
    parse_token_response,
    refresh_access_token,
    user_token,
)
from airflow_provider_mdsp.auth.grants import DEFAULT_EXPIRES_IN, USER_TOKEN_ASSUMED_LIFETIME
from airflow_provider_mdsp.exceptions import (
    MdspAuthError,
    MdspConnectionError,
    MdspRateLimitedError,
    MdspResponseError,
    MdspServerError,
    MdspTimeoutError,
    MdspTokenExpiredError,
)

from .helpers import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN, T0, make_jwt

PIAM = "https://demo.piam.eu1.mindsphere.io/oauth/token"
TMS = "https://gateway.eu1.mindsphere.io/api/technicaltokenmanager/v3/oauth/token"
BASIC = "Basic " + base64.b64encode(f"demo-client:{CLIENT_SECRET}".encode()).decode()

TENANT = TenantCredentials("demo-client", CLIENT_SECRET, "demo", PIAM)
SUBTENANT = TenantCredentials("demo-client", CLIENT_SECRET, "demo", PIAM, sub_tenant="sub-4711")
APP = AppCredentials("demo-client", CLIENT_SECRET, "myapp", "1.0.0", "demo", "customer", TMS)
REFRESH = RefreshTokenCredentials("demo-client", CLIENT_SECRET, REFRESH_TOKEN, PIAM, tenant="demo")


def token_body(**extra: object) -> dict[str, object]:
    return {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 1800, "jti": "j", **extra}


@pytest.fixture
def session() -> requests.Session:
    return requests.Session()


# --- the five flows: the request on the wire ----------------------------------------------------


def test_tenant_flow_posts_client_credentials_form_with_basic_auth(requests_mock, session, clock):
    requests_mock.post(PIAM, json=token_body(scope="iot.tim.r iot.tim.w"))

    token = fetch_tenant_token(session, TENANT, timeout=5)

    req = requests_mock.last_request
    assert (req.method, req.url) == ("POST", PIAM)
    assert req.headers["Authorization"] == BASIC
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(req.text, strict_parsing=True) == {"grant_type": ["client_credentials"]}
    assert req.timeout == 5
    assert token == Token(ACCESS_TOKEN, T0 + 1800, T0, ("iot.tim.r", "iot.tim.w"))


def test_subtenant_flow_adds_impersonation_fields(requests_mock, session, clock):
    requests_mock.post(PIAM, json=token_body(subtenant="sub-4711"))

    token = fetch_tenant_token(session, SUBTENANT, timeout=5)

    req = requests_mock.last_request
    assert req.headers["Authorization"] == BASIC
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(req.text, strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "iam-action": ["client_credentials.tenant-impersonation"],
        "subtenant": ["sub-4711"],
    }
    assert SUBTENANT_IAM_ACTION == "client_credentials.tenant-impersonation"
    assert token.subtenant == "sub-4711"


@pytest.mark.parametrize(
    ("answered", "says"), [(None, "names no subtenant"), ("sub-0815", "names subtenant 'sub-0815'")]
)
def test_a_token_that_does_not_impersonate_the_subtenant_is_refused(requests_mock, session, clock, answered, says):
    # An iam-action PIAM does not know may give a token of the tenant itself: its data, not the subtenant's.
    requests_mock.post(PIAM, json=token_body(subtenant=answered))
    with pytest.raises(MdspAuthError) as err:
        fetch_tenant_token(session, SUBTENANT, timeout=5)
    message = str(err.value)
    assert f"subtenant 'sub-4711', but the token from {PIAM} {says}" in message
    assert "'sub_tenant'" in message
    assert "'iam_action' (sent: 'client_credentials.tenant-impersonation')" in message
    assert err.value.code == "subtenant_not_impersonated"
    assert CLIENT_SECRET not in message
    assert ACCESS_TOKEN not in message


def test_the_unconfirmed_iam_action_value_can_be_overridden(requests_mock, session, clock):
    requests_mock.post(PIAM, json=token_body(subtenant="sub-4711"))
    override = dataclasses.replace(SUBTENANT, iam_action="tenant-impersonation")
    fetch_tenant_token(session, override, timeout=5)
    form = parse_qs(requests_mock.last_request.text, strict_parsing=True)
    assert (form["iam-action"], form["subtenant"]) == (["tenant-impersonation"], ["sub-4711"])
    assert override.identity != SUBTENANT.identity  # tokens of the two values are never shared


def test_app_flow_posts_json_to_token_manager_with_space_auth_key(requests_mock, session, clock):
    requests_mock.post(TMS, json=token_body())

    token = fetch_app_token(session, APP, timeout=5)

    req = requests_mock.last_request
    assert (req.method, req.url) == ("POST", TMS)
    assert req.headers["X-SPACE-AUTH-KEY"] == BASIC
    assert "Authorization" not in req.headers
    assert req.headers["Content-Type"] == "application/json"
    assert req.json() == {"appName": "myapp", "appVersion": "1.0.0", "hostTenant": "demo", "userTenant": "customer"}
    assert token.access_token == ACCESS_TOKEN
    assert token.expires_at == T0 + 1800


def test_user_token_flow_sends_nothing_and_reads_the_jwt(requests_mock, clock):
    jwt = make_jwt({"exp": T0 + 600, "iat": T0 - 1200, "scope": ["iot.tim.r"], "subtenant": "s1"})

    token = user_token(UserTokenCredentials("Bearer " + jwt))

    assert requests_mock.call_count == 0
    assert token == Token(jwt, T0 + 600, T0 - 1200, ("iot.tim.r",), subtenant="s1")


def test_refresh_flow_posts_refresh_grant_and_keeps_the_rotated_refresh_token(requests_mock, session, clock):
    requests_mock.post(
        PIAM,
        [
            {"json": token_body(refresh_token="rt-rotated-1", expires_in=1799)},
            {"json": token_body(refresh_token="rt-rotated-2")},
        ],
    )

    first = obtain_token(session, REFRESH, timeout=5)
    second = obtain_token(session, REFRESH, timeout=5, previous=first)

    sent = [parse_qs(r.text, strict_parsing=True) for r in requests_mock.request_history]
    assert sent == [
        {"grant_type": ["refresh_token"], "refresh_token": [REFRESH_TOKEN]},
        {"grant_type": ["refresh_token"], "refresh_token": ["rt-rotated-1"]},
    ]
    req = requests_mock.last_request
    assert req.headers["Authorization"] == BASIC
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert req.headers["tenant"] == "demo"
    assert "refresh_token" not in req.url  # not in the query string, where proxies log it
    assert (first.refresh_token, first.expires_at) == ("rt-rotated-1", T0 + 1799)
    assert second.refresh_token == "rt-rotated-2"


def test_refresh_keeps_the_sent_refresh_token_when_the_response_has_none(requests_mock, session, clock):
    requests_mock.post(PIAM, json=token_body())

    token = refresh_access_token(session, REFRESH, "rt-current", timeout=5)

    assert token.refresh_token == "rt-current"


def test_a_bearer_auth_on_the_shared_session_does_not_replace_the_basic_header(requests_mock, session, clock):
    session.auth = lambda r: r.headers.update({"Authorization": "Bearer api-token"}) or r
    requests_mock.post(PIAM, json=token_body())

    fetch_tenant_token(session, TENANT, timeout=5)

    assert requests_mock.last_request.headers["Authorization"] == BASIC


def test_obtain_token_dispatches_by_credential_type(requests_mock, session, clock):
    def piam(request, context):
        return token_body(subtenant=parse_qs(request.text).get("subtenant", [None])[0])

    requests_mock.post(PIAM, json=piam)
    requests_mock.post(TMS, json=token_body())
    jwt = make_jwt({"exp": T0 + 60})

    for creds in (TENANT, SUBTENANT, APP):
        assert obtain_token(session, creds, timeout=5).access_token == ACCESS_TOKEN
    assert obtain_token(session, UserTokenCredentials(jwt), timeout=5).access_token == jwt
    assert [r.url for r in requests_mock.request_history] == [PIAM, PIAM, TMS]


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "lifetime", "scopes"),
    [
        ({"access_token": "a"}, DEFAULT_EXPIRES_IN, ()),
        ({"access_token": "a", "expires_in": "600", "scope": ["x.r", "x.w"]}, 600.0, ("x.r", "x.w")),
        ({"access_token": "a", "expires_in": 0, "scope": "x.r  x.w "}, DEFAULT_EXPIRES_IN, ("x.r", "x.w")),
        ({"access_token": "a", "expires_in": "soon", "scope": None}, DEFAULT_EXPIRES_IN, ()),
    ],
)
def test_parse_token_response(body, lifetime, scopes):
    token = parse_token_response(body, at=100.0)

    assert (token.issued_at, token.expires_at, token.scopes) == (100.0, 100.0 + lifetime, scopes)
    assert token.refresh_token is None


def test_parse_token_response_reads_scope_from_the_jwt_when_the_body_has_none():
    jwt = make_jwt({"scope": ["iot.tim.r", "iot.tim.w"], "exp": 1})

    assert parse_token_response({"access_token": jwt}, at=0).scopes == ("iot.tim.r", "iot.tim.w")


def test_parse_token_response_without_access_token_names_keys_not_values():
    with pytest.raises(MdspResponseError, match="no access_token") as info:
        parse_token_response({"token": ACCESS_TOKEN, "expires_in": 1800}, at=0)

    assert "'token'" in str(info.value)
    assert ACCESS_TOKEN not in str(info.value)


# --- user token expiry --------------------------------------------------------------------------


def test_expired_user_token_names_the_connection_field(clock):
    jwt = make_jwt({"exp": T0 - 30, "iat": T0 - 1830})

    with pytest.raises(MdspTokenExpiredError, match="`user_token` expired 30 s ago") as info:
        user_token(UserTokenCredentials(jwt))

    assert jwt not in str(info.value)
    assert isinstance(info.value, MdspAuthError)


def test_opaque_user_token_is_assumed_valid_for_the_documented_default(clock):
    token = user_token(UserTokenCredentials("not-a-jwt"))

    assert token.access_token == "not-a-jwt"
    assert token.expires_at == T0 + USER_TOKEN_ASSUMED_LIFETIME


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected", "hint"),
    [
        (requests.exceptions.ConnectTimeout, MdspTimeoutError, "timed out"),
        (requests.exceptions.ReadTimeout, MdspTimeoutError, "timed out"),
        (requests.exceptions.ConnectionError, MdspConnectionError, "Could not reach"),
        (requests.exceptions.SSLError, MdspConnectionError, "field 'ca_bundle'"),
        (requests.exceptions.ProxyError, MdspConnectionError, "field 'proxy'"),
    ],
)
def test_network_errors_name_the_host(requests_mock, session, exc, expected, hint):
    requests_mock.post(PIAM, exc=exc(f"failed for {PIAM} with {BASIC}"))

    with pytest.raises(expected, match=hint) as info:
        fetch_tenant_token(session, TENANT, timeout=5)

    assert "demo.piam.eu1.mindsphere.io" in str(info.value)
    assert BASIC.split()[1] not in str(info.value)


@pytest.mark.parametrize(
    ("creds", "url", "fields"),
    [
        (TENANT, PIAM, ["`login`", "`password`", "`tenant`"]),
        (SUBTENANT, PIAM, ["`login`", "`password`", "`sub_tenant`"]),
        (APP, TMS, ["`app_name`", "`app_version`", "`host_tenant`", "`user_tenant`"]),
        (REFRESH, PIAM, ["`login`", "`refresh_token`"]),
    ],
)
@pytest.mark.parametrize("status", [400, 401])
def test_rejected_credentials_name_the_fields_to_check(requests_mock, session, creds, url, fields, status):
    requests_mock.post(url, status_code=status, json={"error": "invalid_client", "error_description": "Bad"})

    with pytest.raises(MdspAuthError) as info:
        obtain_token(session, creds, timeout=5)

    err = info.value
    assert (err.status, err.code) == (status, "invalid_client")
    assert all(f in str(err) for f in fields), str(err)
    assert "[invalid_client]" in str(err)


def test_forbidden_means_a_missing_role(requests_mock, session):
    requests_mock.post(PIAM, status_code=403, json={"error": "access_denied"})

    with pytest.raises(MdspAuthError, match="role or scope for this subtenant impersonation"):
        fetch_tenant_token(session, SUBTENANT, timeout=5)


def test_forbidden_app_credentials_point_at_app_name_version_and_tenants_not_roles(requests_mock, session):
    body = {"errors": [{"logref": "x", "message": "appVersion 1.0.0 not found"}]}
    requests_mock.post(TMS, status_code=403, json=body)

    with pytest.raises(MdspAuthError) as info:
        obtain_token(session, APP, timeout=5)

    message = str(info.value)
    assert all(f in message for f in ("`app_name`", "`app_version`", "`host_tenant`", "`user_tenant`")), message
    assert "ask the tenant admin" not in message


def test_an_unreachable_token_endpoint_is_named_with_its_port(requests_mock, session):
    url = "https://demo.piam.eu1.mindsphere.io:8443/oauth/token"
    requests_mock.post(url, exc=requests.exceptions.ConnectionError("refused"))
    creds = TenantCredentials("demo-client", CLIENT_SECRET, "demo", url)

    with pytest.raises(MdspConnectionError, match=r"demo\.piam\.eu1\.mindsphere\.io:8443"):
        obtain_token(session, creds, timeout=5)


@pytest.mark.parametrize(("creds", "url", "field"), [(TENANT, PIAM, "`auth_url`"), (APP, TMS, "`host`")])
def test_not_found_points_at_the_token_url_field(requests_mock, session, creds, url, field):
    requests_mock.post(url, status_code=404, text="<html>Not Found</html>")

    with pytest.raises(MdspAuthError, match="was not found") as info:
        obtain_token(session, creds, timeout=5)

    assert field in str(info.value)
    assert info.value.status == 404


def test_rate_limit_and_server_errors_are_the_retryable_api_errors(requests_mock, session):
    requests_mock.post(
        PIAM,
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "slow down"}},
            {"status_code": 503, "text": "unavailable"},
        ],
    )

    with pytest.raises(MdspRateLimitedError) as limited:
        fetch_tenant_token(session, TENANT, timeout=5)
    with pytest.raises(MdspServerError) as failed:
        fetch_tenant_token(session, TENANT, timeout=5)

    assert (limited.value.retryable, limited.value.retry_after, limited.value.status) == (True, 7.0, 429)
    assert (failed.value.retryable, failed.value.status) == (True, 503)


def test_an_html_page_instead_of_json_is_a_response_error_with_an_excerpt(requests_mock, session):
    page = "<html><body>Corporate proxy login</body></html>"
    requests_mock.post(PIAM, text=page, headers={"Content-Type": "text/html"})

    with pytest.raises(MdspResponseError, match="without a JSON object") as info:
        fetch_tenant_token(session, TENANT, timeout=5)

    assert info.value.body_excerpt == page
    assert info.value.status == 200


# --- no secret anywhere -------------------------------------------------------------------------

ECHO = f"client_secret={CLIENT_SECRET} refresh_token={REFRESH_TOKEN} header={BASIC}"
FAILURES = [
    {"status_code": 401, "json": {"error": "invalid_client", "error_description": ECHO}},
    {"status_code": 400, "json": {"error": "invalid_grant", "error_description": ECHO}},
    {"status_code": 403, "json": {"error": "access_denied", "error_description": ECHO}},
    {"status_code": 404, "text": ECHO},
    {"status_code": 429, "json": {"message": ECHO}},
    {"status_code": 500, "text": ECHO},
    {"status_code": 200, "text": f"<html>{ECHO}</html>"},
    {"status_code": 200, "json": {"token": ACCESS_TOKEN}},
    {"exc": requests.exceptions.ConnectionError(ECHO)},
]


@pytest.mark.parametrize("creds", [TENANT, APP, REFRESH], ids=lambda c: c.flow)
@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: str(f.get("status_code", "network")))
def test_no_secret_or_token_in_errors_or_logs(requests_mock, session, caplog, creds, failure):
    caplog.set_level(logging.DEBUG)
    requests_mock.post(creds.token_url, **failure)

    with pytest.raises(Exception) as info:
        obtain_token(session, creds, timeout=5)

    err = info.value
    seen = " ".join([str(err), repr(err), json.dumps(vars(err), default=str), caplog.text])
    assert CLIENT_SECRET in creds.secrets  # the server echo above does hold the secrets
    for secret in (*creds.secrets, ACCESS_TOKEN, BASIC.split()[1]):
        assert secret not in seen
