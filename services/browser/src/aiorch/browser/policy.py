"""Which addresses the browser may open: http(s) only, and no loopback, private,
link-local or cloud-metadata targets unless the settings allow them by name."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class Refused(Exception):
    """A URL the policy does not allow, with the reason."""


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: frozenset[str] = frozenset()
    """Hosts (names or IPs, optionally host:port) allowed even if they are private or local."""

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise Refused(f"{url[:80]!r}: only http and https addresses are allowed (not {parts.scheme or 'none'}:)")
        host = (parts.hostname or "").lower()
        if not host:
            raise Refused(f"{url[:80]!r} has no host")
        if host in self.allowed_hosts or f"{host}:{parts.port}" in self.allowed_hosts:
            return
        if host in METADATA_HOSTS:
            raise Refused(f"{host} is a cloud metadata address")
        for address in _addresses(host):
            reason = _forbidden(address)
            if reason:
                raise Refused(f"{host} resolves to {address}, {reason}; it is not in the allowlist")


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []  # unresolvable: the navigation itself fails with a clear error
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _forbidden(address) -> str | None:
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if str(address) == "169.254.169.254" or str(address).startswith("fd00:ec2:"):
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "not a public address"
    return None
