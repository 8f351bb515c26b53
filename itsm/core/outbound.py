"""Calls the platform makes to other systems (a deployment protection rule's callback,
webhooks, channels): only to hosts a caller allow-lists, and never to a private, loopback,
link-local or otherwise non-public address.

``safe_post(url, json, headers, allowed_hosts)`` checks the URL's scheme and host against
the allow-list, resolves the host and checks every address it resolves to, then connects
to one of those checked addresses itself (the name is not resolved a second time, so a
DNS answer that changes between the check and the call cannot point it inward). TLS still
verifies the certificate against the host name. Redirects are not followed.

``settings.OUTBOUND_ALLOW_LOOPBACK`` (False unless a test sets it) lets loopback
addresses through, for a test's server on 127.0.0.1; nothing else is ever let through.
"""

import http.client
import ipaddress
import json as jsonlib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "itsm-platform"


class OutboundRefused(Exception):
    """The call was not made: why (the host is not allowed, an address is private…)."""


class OutboundFailed(Exception):
    """The call was made and failed (timeout, connection refused)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def host_allowed(host: str, allowed_hosts) -> bool:
    """``host`` is one of ``allowed_hosts`` (exact, case-insensitive), or under a
    ``*.example.com`` entry (a subdomain, not the bare domain)."""
    host = host.lower().rstrip(".")
    for entry in allowed_hosts or ():
        entry = str(entry).strip().lower().rstrip(".")
        if not entry:
            continue
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


def address_refusal(address: str) -> str | None:
    """Why the platform may not call this IP address, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        if getattr(settings, "OUTBOUND_ALLOW_LOOPBACK", False):
            return None
        return f"{ip} is a loopback address."
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return f"{ip} is not a public address."
    if ip.is_link_local:
        return f"{ip} is a link-local address."
    if ip.is_private:
        return f"{ip} is a private address."
    if not ip.is_global:
        return f"{ip} is not a public address."
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to; each must be public (OutboundRefused)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundRefused(f"{host} does not resolve: {error}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve.")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise OutboundRefused(f"{host}: {reason}")
    return addresses


def _pinned(connection_class, address: str):
    """A connection class that connects to ``address`` whatever host it is given (the
    host stays the Host header and, for TLS, the name the certificate must carry)."""

    class Pinned(connection_class):
        def connect(self):
            self._create_connection = lambda _host_port, *args, **kwargs: socket.create_connection(
                (address, self.port), *args, **kwargs
            )
            super().connect()

    return Pinned


def check_url(url: str, allowed_hosts) -> tuple[str, str, int, list[str]]:
    """(scheme, host, port, addresses) of a URL the platform may call, or OutboundRefused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"Only http and https URLs are called, not {parts.scheme!r}.")
    if parts.username or parts.password:
        raise OutboundRefused("A URL with credentials in it is not called.")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused("The URL has no host.")
    if not host_allowed(host, allowed_hosts):
        raise OutboundRefused(f"{host} is not an allowed host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("The URL's port is not a number.") from None
    return parts.scheme, host, port, resolve(host, port)


def safe_post(
    url: str,
    json,
    headers: dict | None = None,
    allowed_hosts=(),
    timeout: float = DEFAULT_TIMEOUT,
) -> OutboundResponse:
    """POST ``json`` to ``url`` if its host is allow-listed and every address it resolves
    to is public; the response's status and body (any status: the caller decides).
    OutboundRefused when the call is not made, OutboundFailed when it fails."""
    scheme, host, port, addresses = check_url(url, allowed_hosts)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = jsonlib.dumps(json).encode()
    sent_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    if scheme == "https":
        connection_class = _pinned(http.client.HTTPSConnection, addresses[0])
        connection = connection_class(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _pinned(http.client.HTTPConnection, addresses[0])(host, port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=sent_headers)
        response = connection.getresponse()
        return OutboundResponse(response.status, response.read(1_000_000))
    except (OSError, http.client.HTTPException) as error:
        raise OutboundFailed(f"{host}: {error}") from None
    finally:
        connection.close()
