"""Keep URL sources out of private networks (SSRF): resolve the host, then check every address.

A URL a user hands us must not make this process (often running in a cloud VM or a cluster) read
from 127.0.0.1, 10.x, 169.254.169.254 (cloud metadata) or ::1. Checking the host *name* is not
enough (`localhost.example.com`, `2130706433` and `[::ffff:127.0.0.1]` all reach 127.0.0.1), so the
host is resolved here and every address it resolves to must be public. The caller then connects to
one of the addresses returned, never to the name again, so a second DNS answer cannot swap in a
private address between the check and the connection (DNS rebinding).

Only user input is checked: the LLM endpoint, `HF_ENDPOINT` and `GITHUB_API_URL` are operator
settings and are reached as configured.
"""

from __future__ import annotations

import ipaddress
import socket

from decompose.errors import InputError, SourceNotFound

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 gateways map 64:ff9b::a.b.c.d to a.b.c.d: the IPv4 address is where the request lands.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
ALLOW_HINT = "URL sources may only reach public addresses; pass --allow-private-urls to read from a private network"


def blocked_reason(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused ("a loopback", "a private", ...), or None if public.

    An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, Teredo,
    NAT64) is judged by the IPv4 address it leads to.
    """
    if isinstance(address, ipaddress.IPv6Address) and not (address.is_loopback or address.is_unspecified):
        address = embedded_ipv4(address) or address
    for reason, applies in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("an unspecified", address.is_unspecified),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
        ("a non-public", not address.is_global),
    ):
        if applies:
            return reason
    return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_addresses(host: str, port: int, *, subject: str) -> tuple[str, ...]:
    """The addresses `host` resolves to, all checked public, in the resolver's order of preference.

    `subject` names what is being fetched in the error. Raises InputError when any address is not
    public (one bad address is enough: the resolver, not us, would pick which one is used), and
    SourceNotFound when the name does not resolve.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        cause = getattr(error, "strerror", None) or str(error)
        raise SourceNotFound(
            f"cannot fetch {subject} ({host} does not resolve: {cause}); check the URL and the network"
        ) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in found))
    for text in addresses:
        reason = blocked_reason(ipaddress.ip_address(text))
        if reason is not None:
            where = f"{text} is" if _is_literal(host, text) else f"{host} resolves to {text},"
            raise InputError(f"refused {subject}: {where} {reason} address; {ALLOW_HINT}")
    if not addresses:
        raise SourceNotFound(f"cannot fetch {subject} ({host} resolves to no address); check the URL and the network")
    return addresses


def _is_literal(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(address)
    except ValueError:
        return False
