"""Phonebook endpoints: /explorer/users (docs/contract/explorer.md §3.1, §5.3, §5.4)."""

import nacl.signing
import pytest

from localgrid.tests.conftest import load_vector

VECTORS = load_vector("signing_generated_v030.json")
USER_KEY = VECTORS["keys"]["user"]


def _create(explorer, name, email="", pubkey=USER_KEY["pubkey_hex"]):
    return explorer.post("/users", json={"name": name, "email": email, "pubkey": pubkey})


def test_create_returns_201_with_full_user_and_counter_ids(explorer):
    first = _create(explorer, "alice.3bot", "alice@example.com")
    assert first.status_code == 201
    assert first.headers["content-type"] == "application/json"
    assert first.text.endswith("}\n")
    user = first.json()
    assert set(user) == {"id", "name", "email", "pubkey", "host", "description", "signature"}
    assert user["name"] == "alice.3bot" and user["pubkey"] == USER_KEY["pubkey_hex"]
    second = _create(explorer, "bob.3bot", "bob@example.com")
    assert second.json()["id"] == user["id"] + 1


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"name": "User.3bot"}, 400, "name should be all lower case"),
        ({"name": "com", "email": "User@example.com"}, 400, "email should be all lower case"),
        ({"name": "ab"}, 400, "name should be at least 3 character"),
        ({"name": "abc", "pubkey": "zz"}, 500, "invalid public key zz: invalid hex format:"),
        ({"name": "abc", "pubkey": "abcd"}, 500, "invalid public key abcd: wrong key size"),
    ],
)
def test_create_validation(explorer, body, status, message):
    body = dict({"email": "", "pubkey": USER_KEY["pubkey_hex"]}, **body)
    response = explorer.post("/users", json=body)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)


def test_duplicate_name_or_email_is_409(explorer):
    assert _create(explorer, "carol.3bot", "carol@example.com").status_code == 201
    for name, email in (("carol.3bot", "other@example.com"), ("dave.3bot", "carol@example.com")):
        response = _create(explorer, name, email)
        assert response.status_code == 409
        assert response.json() == {"error": "user with same name or email exists"}


def test_decode_leniency_and_type_errors(explorer):
    response = explorer.post("/users", json={"NAME": "erin.3bot", "Email": "erin@example.com", "pubkey": USER_KEY["pubkey_hex"], "extra": 1})
    assert response.status_code == 201 and response.json()["name"] == "erin.3bot"
    response = explorer.post("/users", json={"name": 12})
    assert response.status_code == 400
    assert response.json()["error"].startswith("json: cannot unmarshal number")
    assert explorer.post("/users", content=b"{not json").status_code == 400


def test_list_filters_and_pages(explorer):
    for index in range(3):
        _create(explorer, "list%d.3bot" % index, "list%d@example.com" % index)
    everyone = explorer.get("/users")
    assert everyone.status_code == 200 and everyone.headers["pages"] == "1"
    by_name = explorer.get("/users", params={"name": "list1.3bot"}).json()
    assert [u["name"] for u in by_name] == ["list1.3bot"]
    by_email = explorer.get("/users", params={"email": "list2@example.com"}).json()
    assert [u["name"] for u in by_email] == ["list2.3bot"]
    paged = explorer.get("/users", params={"page": 2, "size": 2})
    total = len(everyone.json())
    assert paged.headers["pages"] == str(-(-total // 2))
    assert [u["id"] for u in paged.json()] == [u["id"] for u in everyone.json()[2:4]]


def test_get_user(explorer):
    tid = _create(explorer, "frank.3bot", "frank@example.com").json()["id"]
    assert explorer.get("/users/%d" % tid).json()["name"] == "frank.3bot"
    missing = explorer.get("/users/9999")
    assert missing.status_code == 404 and missing.json() == {"error": "mongo: no documents in result"}
    bad = explorer.get("/users/abc")
    assert bad.status_code == 400 and bad.json()["error"].startswith("invalid id format: ")


def _update_body(tid, key, **fields):
    body = {k: fields.get(k, "") for k in ("name", "email", "host", "description", "pubkey")}
    message = "%d%s%s%s%s%s" % (tid, body["name"], body["email"], body["host"], body["description"], body["pubkey"])
    body["sender_signature_hex"] = key.sign(message.encode()).signature.hex()
    return body


def test_update_signed_by_stored_key(explorer):
    key = nacl.signing.SigningKey.generate()
    tid = _create(explorer, "grace.3bot", "grace@example.com", bytes(key.verify_key).hex()).json()["id"]
    new_key = nacl.signing.SigningKey.generate()
    body = _update_body(tid, key, description="updated", pubkey=bytes(new_key.verify_key).hex())
    response = explorer.put("/users/%d" % tid, json=body)
    assert response.status_code == 200 and response.text == "null\n"
    user = explorer.get("/users/%d" % tid).json()
    assert user["description"] == "updated" and user["pubkey"] == bytes(new_key.verify_key).hex()
    assert user["email"] == "grace@example.com"  # empty values leave fields unchanged
    # the old key no longer works once rotated
    stale = explorer.put("/users/%d" % tid, json=_update_body(tid, key, host="h"))
    assert stale.json() == {"error": "payload verification failed: bad data during user update"}


def test_update_vector_signature(explorer):
    """The vector's user has tid 12: fill the phonebook up to 11, then replay the signed body verbatim."""
    last = explorer.get("/users").json()[-1]["id"]
    for index in range(last + 1, 12):
        _create(explorer, "filler%d.3bot" % index, "filler%d@example.com" % index, "00" * 31 + "%02x" % index)
    tid = _create(explorer, "alice.3bot", "alice@example.com").json()["id"]
    assert tid == VECTORS["keys"]["user"]["tid"]
    vector = VECTORS["user_update"]
    assert explorer.put("/users/%d" % tid, json=vector["body"]).status_code == 200
    assert explorer.get("/users/%d" % tid).json()["description"] == "updated"


@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"sender_signature_hex": ""}, 400, "signature is required"),
        ({"sender_signature_hex": "xy"}, 400, "invalid signature hex: "),
        ({"sender_signature_hex": "00" * 64}, 400, "payload verification failed: bad data during user update"),
    ],
)
def test_update_errors(explorer, change, status, message):
    key = nacl.signing.SigningKey.generate()
    tid = _create(explorer, "henry.3bot", "henry@example.com", bytes(key.verify_key).hex()).json()["id"]
    body = dict(_update_body(tid, key, host="x"), **change)
    response = explorer.put("/users/%d" % tid, json=body)
    assert response.status_code == status and response.json()["error"].startswith(message)


def test_update_name_key_and_missing_user(explorer):
    key = nacl.signing.SigningKey.generate()
    tid = _create(explorer, "ivan.3bot", "ivan@example.com", bytes(key.verify_key).hex()).json()["id"]
    rename = explorer.put("/users/%d" % tid, json=_update_body(tid, key, name="other.3bot"))
    assert rename.json() == {"error": "can not update name: bad data during user update"}
    badkey = explorer.put("/users/%d" % tid, json=_update_body(tid, key, pubkey="abcd"))
    assert badkey.json() == {"error": "invalid public key: bad data during user update"}
    missing = explorer.put("/users/999", json=_update_body(999, key, host="x"))
    assert missing.status_code == 500 and missing.json() == {"error": "user not found"}
    bad_id = explorer.put("/users/x", json=_update_body(1, key))
    assert bad_id.status_code == 400 and bad_id.json()["error"].startswith("invalid user id: invalid id format: ")


def test_validate(explorer):
    tid = _create(explorer, "alice.3bot", "alice@example.com").json()["id"]
    vector = VECTORS["user_validate"]
    response = explorer.post("/users/%d/validate" % tid, json=vector["body"])
    assert response.status_code == 200 and response.json() == {"is_valid": True}
    tampered = dict(vector["body"], payload=vector["body"]["payload"] + "00")
    assert explorer.post("/users/%d/validate" % tid, json=tampered).json() == {"is_valid": False}
    bad = explorer.post("/users/%d/validate" % tid, json={"payload": "zz", "signature": ""})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("payload must be hex encoded string of original data: ")
    assert explorer.post("/users/999/validate", json=vector["body"]).status_code == 404


def test_router_quirks(explorer):
    missing = explorer.get("/nope")
    assert missing.status_code == 404 and missing.text == "404 page not found\n"
    wrong_method = explorer.delete("/users")
    assert wrong_method.status_code == 405 and wrong_method.content == b""
