"""Digest verification against RFC 2617's own worked example (§3.5) and refusals that name the field."""

from __future__ import annotations

import pytest

from vision.gb28181 import digest
from vision.gb28181.errors import DigestError

RFC2617 = ('Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
           'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
           'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"')


def test_rfc2617_example_verifies_with_its_password_only() -> None:
    credentials = digest.parse_credentials(RFC2617)
    assert digest.verify(credentials, "GET", "Circle Of Life")
    assert not digest.verify(credentials, "GET", "circle of life")
    assert not digest.verify(credentials, "POST", "Circle Of Life")


def test_without_qop_the_response_is_md5_of_ha1_nonce_ha2() -> None:
    c = digest.Credentials("34020000001320000001", "3402000000", "n1", "sip:34020000002000000001@3402000000", "")
    answer = digest.expected_response(c, "REGISTER", "12345678")
    ok = digest.Credentials(c.username, c.realm, c.nonce, c.uri, answer.upper())
    assert digest.verify(ok, "REGISTER", "12345678") and not digest.verify(ok, "REGISTER", "1234567")


@pytest.mark.parametrize(("header", "named"), [
    ("Basic Zm9v", "scheme"),
    ('Digest username="a"', "missing realm, nonce, uri, response"),
    ('Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-256', "algorithm"),
    ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth-int', "qop"),
    ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth', "nc and cnonce"),
    ('Digest ,,,', "cannot read"),
    ("Digest " + "a" * 3000, "characters"),
])
def test_malformed_credentials_are_refused_naming_what(header: str, named: str) -> None:
    with pytest.raises(DigestError, match=named):
        digest.parse_credentials(header)
