"""Token endpoints and the bearer/scope checks of the emulator."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import requests

from airflow_provider_mdsp.emulator import run_emulator
from airflow_provider_mdsp.emulator.config import demo_config

from .conftest import READER, TECH, session, token

pytestmark = pytest.mark.integration

APP_ID, APP_SECRET = "demo-mdspdemoapp-1.0.0", "demo-app-secret"
APP_BODY = {"appName": "mdspdemoapp", "appVersion": "1.0.0", "hostTenant": "demo", "userTenant": "demo"}


def _b64(creds: tuple[str, str]) -> str:
    return base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()


def _verify(emu, access_token: str) -> dict:
    keys = requests.get(f"{emu.url}/token_keys", timeout=10).json()["keys"]
    first = keys[0]
    assert jwt.get_unverified_header(access_token)["kid"] == first["kid"]
    return jwt.decode(access_token, first["value"], algorithms=["RS256"])


def test_client_credentials_form_body(emu):
    r = requests.post(emu.token_url, auth=TECH, data={"grant_type": "client_credentials"}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert "iot.tim.r" in body["scope"].split(" ")
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}


def test_grant_type_in_query_string_like_mendix(emu):
    r = requests.post(emu.token_url, params={"grant_type": "client_credentials"}, auth=TECH, timeout=10)
    assert r.status_code == 200


def test_token_keys_first_key_verifies_and_claims_are_complete(emu):
    claims = _verify(emu, token(emu))
    assert isinstance(claims["scope"], list)
    assert claims["ten"] == "demo"
    assert claims["client_id"] == claims["cid"] == claims["azp"] == "demo-techuser"
    assert claims["grant_type"] == "client_credentials"
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["iss"] == f"{emu.url}/oauth/token"
    for key in ("jti", "sub", "rev_sig"):
        assert claims[key]


def test_token_keys_shape(emu):
    keys = requests.get(f"{emu.url}/token_keys", timeout=10).json()["keys"]
    assert {"kty", "e", "use", "kid", "alg", "value", "n"} <= set(keys[0])
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["value"].startswith("-----BEGIN PUBLIC KEY-----")


def test_bad_credentials_answer_401(emu):
    r = requests.post(emu.token_url, auth=("demo-techuser", "wrong"), data={"grant_type": "client_credentials"})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "error_description": "Bad credentials"}


def test_unknown_grant_answers_400(emu):
    r = requests.post(emu.token_url, auth=TECH, data={"grant_type": "password"}, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


def test_subtenant_impersonation(emu):
    form = {"iam-action": "client_credentials.tenant-impersonation", "subtenant": "demo-sub1"}
    r = requests.post(emu.token_url, auth=TECH, data={"grant_type": "client_credentials", **form}, timeout=10)
    assert r.status_code == 200
    assert r.json()["subtenant"] == "demo-sub1"
    assert _verify(emu, r.json()["access_token"])["subtenant"] == "demo-sub1"


def test_impersonation_of_unknown_subtenant_or_by_reader_is_refused(emu):
    form = {"grant_type": "client_credentials", "iam-action": "client_credentials.tenant-impersonation"}
    unknown = requests.post(emu.token_url, auth=TECH, data={**form, "subtenant": "nope"}, timeout=10)
    assert unknown.status_code == 400
    denied = requests.post(emu.token_url, auth=READER, data={**form, "subtenant": "demo-sub1"}, timeout=10)
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("header", "prefix"), [("X-SPACE-AUTH-KEY", "Basic"), ("X-SPACE-AUTH-KEY", "Bearer"), ("Authorization", "Basic")]
)
def test_app_credentials_token(emu, header, prefix):
    url = f"{emu.url}/api/technicaltokenmanager/v3/oauth/token"
    r = requests.post(url, json=APP_BODY, headers={header: f"{prefix} {_b64((APP_ID, APP_SECRET))}"}, timeout=10)
    assert r.status_code == 200
    claims = _verify(emu, r.json()["access_token"])
    assert claims["client_id"] == APP_ID
    assert claims["ten"] == "demo"


def test_app_credentials_fields_in_query_or_body_but_not_both(emu):
    url = f"{emu.url}/api/technicaltokenmanager/v3/oauth/token"
    headers = {"X-SPACE-AUTH-KEY": f"Basic {_b64((APP_ID, APP_SECRET))}"}
    assert requests.post(url, params=APP_BODY, headers=headers, timeout=10).status_code == 200
    mixed = requests.post(url, params={"appName": "mdspdemoapp"}, json=APP_BODY, headers=headers, timeout=10)
    assert mixed.status_code == 400


def test_app_credentials_mismatch_and_bad_secret(emu):
    url = f"{emu.url}/api/technicaltokenmanager/v3/oauth/token"
    good = {"X-SPACE-AUTH-KEY": f"Basic {_b64((APP_ID, APP_SECRET))}"}
    wrong_version = requests.post(url, json={**APP_BODY, "appVersion": "2.0.0"}, headers=good, timeout=10)
    assert wrong_version.status_code == 403
    assert "appVersion" in wrong_version.json()["error_description"]
    bad = {"X-SPACE-AUTH-KEY": f"Basic {_b64((APP_ID, 'nope'))}"}
    assert requests.post(url, json=APP_BODY, headers=bad, timeout=10).status_code == 401


def test_refresh_token_rotates_and_old_one_stays_valid(emu):
    issued = requests.post(f"{emu.url}/_emulator/refresh-token", json={"client_id": "demo-techuser"}, timeout=10)
    first = issued.json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": first}
    r = requests.post(emu.token_url, auth=TECH, data=form, timeout=10)
    assert r.status_code == 200
    assert r.json()["refresh_token"] != first
    assert _verify(emu, r.json()["access_token"])["user_name"]
    again = requests.post(emu.token_url, auth=TECH, data=form, timeout=10)
    assert again.status_code == 200  # used refresh tokens stay valid until they expire
    other = requests.post(emu.token_url, auth=READER, data=form, timeout=10)
    assert other.status_code == 401


def test_used_refresh_token_is_revoked_when_reuse_is_off():
    with run_emulator(config=demo_config().with_overrides(refresh_token_reuse=False)) as emu:
        issued = requests.post(f"{emu.url}/_emulator/refresh-token", json={"client_id": "demo-techuser"}, timeout=10)
        form = {"grant_type": "refresh_token", "refresh_token": issued.json()["refresh_token"]}
        assert requests.post(emu.token_url, auth=TECH, data=form, timeout=10).status_code == 200
        second = requests.post(emu.token_url, auth=TECH, data=form, timeout=10)
        assert second.status_code == 401
        assert second.json()["error"] == "invalid_token"


def test_user_token_passes_and_identifies_the_user(emu):
    r = requests.post(
        f"{emu.url}/_emulator/user-token", json={"tenant": "demo", "user_name": "lena.vogel@demo.example"}
    )
    user = session(r.json()["access_token"])
    me = user.get(f"{emu.url}/api/identitymanagement/v3/Users/me", timeout=10)
    assert me.status_code == 200
    assert me.json()["userName"] == "lena.vogel@demo.example"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic abc"])
def test_missing_or_invalid_token_is_401_token_validation_failed(emu, header):
    headers = {"Authorization": header} if header else {}
    r = requests.get(f"{emu.url}/api/assetmanagement/v3/assets", headers=headers, timeout=10)
    assert r.status_code == 401
    assert r.json()["error"] == "token_validation_failed"
    assert r.json()["error_description"].startswith("[")


def test_expired_token_is_401(emu):
    r = requests.post(f"{emu.url}/_emulator/user-token", json={"tenant": "demo", "lifetime_s": 0}, timeout=10)
    expired = session(r.json()["access_token"])
    response = expired.get(f"{emu.url}/api/assetmanagement/v3/assets/root", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "token_validation_failed"


def test_token_signed_by_another_key_is_401(emu):
    claims = jwt.decode(token(emu), options={"verify_signature": False})
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "key-id-1"})
    r = session(forged).get(f"{emu.url}/api/assetmanagement/v3/assets/root", timeout=10)
    assert r.status_code == 401


def test_missing_scope_is_403_in_each_service_body(emu, reader, ids):
    pump = ids["Pump-A1-1"]
    ts = reader.put(f"{emu.url}/api/iottimeseries/v3/timeseries/{pump}/PumpData", json=[], timeout=10)
    assert ts.status_code == 403
    assert set(ts.json()) == {"id", "message"}
    assets = reader.post(f"{emu.url}/api/assetmanagement/v3/assets", json={}, timeout=10)
    assert assets.status_code == 403
    assert assets.json()["errors"][0]["code"] == "mdsp.core.generic.forbidden"
    events = reader.post(f"{emu.url}/api/eventmanagement/v3/events", json={}, timeout=10)
    assert events.status_code == 403
    assert set(events.json()[0]) == {"logref", "message"}
    assert reader.get(f"{emu.url}/api/assetmanagement/v3/assets/root", timeout=10).status_code == 200


def test_token_requests_are_counted_per_client_and_grant(emu):
    emu.reset_stats()
    token(emu)
    token(emu, READER)
    stats = emu.stats()["token_requests"]
    assert stats["by_client"] == {"demo-techuser": 1, "demo-reader": 1}
    assert stats["by_grant"] == {"client_credentials": 2}
    assert json.dumps(stats)  # plain JSON


def test_user_token_with_narrow_scopes_and_bad_lifetime(emu):
    url = f"{emu.url}/_emulator/user-token"
    narrow = session(requests.post(url, json={"scopes": ["im.r"]}, timeout=10).json()["access_token"])
    assert narrow.get(f"{emu.url}/api/im/v3/Users", timeout=10).status_code == 200
    assert narrow.get(f"{emu.url}/api/assetmanagement/v3/assets", timeout=10).status_code == 403
    assert requests.post(url, json={"lifetime_s": "soon"}, timeout=10).status_code == 400


def test_unknown_api_path_answers_in_the_service_body(emu, api):
    missing = api.get(f"{emu.url}/api/iottimeseries/v3/nothing-here", timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()) == {"id", "message"}
