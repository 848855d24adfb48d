"""Alibaba Cloud's RPC request signature (签名机制, SignatureVersion 1.0, HMAC-SHA1), pure: the canonicalised
query, the string to sign and the signature, as the public documentation describes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

SIGNATURE_METHOD, SIGNATURE_VERSION = "HMAC-SHA1", "1.0"


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 text: A-Z a-z 0-9 - _ . ~ kept, a space as %20, everything else %XY."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """The parameters (Signature left out) sorted by name, each name=value percent-encoded, joined by &."""
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}"
                    for name, value in sorted(params.items()) if name != "Signature")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """HTTPMethod & percentEncode("/") & percentEncode(canonical query)."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def rpc_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign))."""
    mac = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def signed_params(params: Mapping[str, str], *, access_key_id: str, secret: str, action: str, version: str,
                  timestamp: str, nonce: str, method: str = "POST", fmt: str = "JSON") -> dict[str, str]:
    """`params` with the common request parameters and their Signature added (Timestamp in UTC,
    YYYY-MM-DDThh:mm:ssZ; a nonce never used before)."""
    common = {"AccessKeyId": access_key_id, "Action": action, "Format": fmt, "SignatureMethod": SIGNATURE_METHOD,
              "SignatureNonce": nonce, "SignatureVersion": SIGNATURE_VERSION, "Timestamp": timestamp,
              "Version": version}
    signed = {**params, **common}
    signed["Signature"] = rpc_signature(secret, method, signed)
    return signed


def verify_signature(secret: str, method: str, params: Mapping[str, str]) -> bool:
    """Whether params["Signature"] signs the other parameters with `secret` (constant-time comparison)."""
    given = params.get("Signature", "")
    return hmac.compare_digest(rpc_signature(secret, method, params).encode(), given.encode("utf-8", "replace"))
