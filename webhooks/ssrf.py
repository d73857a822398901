"""The SSRF guard: webhooks go to the public internet only.

An endpoint's host is resolved when the endpoint is saved and again before each
send (DNS can change between the two); if any address it resolves to is
loopback, private, link-local, reserved, multicast or otherwise not global, it is
refused. The sender then connects to the address checked here, not to a name
resolved a second time. WEBHOOK_ALLOW_PRIVATE=1 lifts the rule (local use, tests).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointRefused(DomainError):
    code = "webhook_endpoint_refused"
    field = "url"


@dataclass(frozen=True)
class Target:
    """Where one send goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str  # as written in the URL (the Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the IP address checked, connected to as is


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def url_parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise EndpointRefused(_("This is not a valid URL.")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused(_("Webhook URLs start with https:// or http:// and name a host."))
    if parts.username or parts.password:
        raise EndpointRefused(_("Webhook URLs carry no user name or password."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def target_resolve(url: str) -> Target:
    """Resolve the URL's host and check every address it has; raises EndpointRefused."""
    scheme, host, port, path = url_parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise EndpointRefused(_("The host name does not resolve.")) from error
    addresses: list[IPAddress] = []
    for info in infos:
        # A scope (fe80::1%eth0) is link-local anyway; drop it before parsing.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EndpointRefused(_("The host name does not resolve."))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not _public(address):
                raise EndpointRefused(
                    _(
                        "Webhooks go to public addresses only: this host is on a "
                        "loopback, private, link-local or reserved address."
                    )
                )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
