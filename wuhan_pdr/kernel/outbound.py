"""Outbound connections: the one guarded way the platform connects to another machine.

Every connection the platform opens on behalf of a user's settings (an agency's API for API
pull, an agency's database for extraction, later chapters' callbacks) goes through here, so
that a setting cannot turn the platform against its own network (server-side request forgery):

1. the host is resolved **once** (`resolve`, `resolve_url`);
2. every address it resolves to is judged by the **address policy** (`refusal`); one refused
   address refuses the host (a name that also points somewhere forbidden is not trusted);
3. the connection goes to an address that was checked (`Destination.connect`,
   `Destination.opener` for HTTP and HTTPS, `Destination.hostaddr` for libpq), never to a
   second lookup that DNS rebinding could answer differently. HTTPS still sends the host name
   (SNI) and checks the certificate against it; the `Host` header names it too.

The address policy (decision 0010, docs/decisions/0010-outbound-address-policy.md):

- always refused: unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16, fe80::/10),
  multicast and broadcast, cloud metadata addresses (`METADATA`), reserved and documentation
  ranges, and any IPv6 form that carries a refused IPv4 address (IPv4-mapped,
  IPv4-compatible, IPv4-translated, 6to4, Teredo, NAT64): such an address is judged as the
  IPv4 address it carries;
- loopback and the platform's own addresses (its `ALLOWED_HOSTS` names and what they resolve
  to, the addresses of this machine's interfaces): refused unless the policy's
  `allow_loopback` is on (development and tests; production settings force it off);
- private ranges (RFC 1918, CGNAT 100.64.0.0/10, ULA fc00::/7): refused unless inside one of
  the policy's `allowed_networks` (a setting listing CIDRs, empty by default), since agency
  services do sit on private government networks;
- everything else (public addresses) is allowed.

HTTP(S) openers built here follow no redirect (an answer may not send the platform
elsewhere), ignore proxies from the environment and speak nothing but http and https.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list]

# Cloud metadata and platform-agent services: AWS, GCP, Azure, Huawei, OpenStack
# (169.254.169.254), AWS ECS task metadata (169.254.170.2), Tencent Cloud (169.254.0.23),
# Alibaba Cloud (100.100.100.200, inside CGNAT), Azure's wire server (168.63.129.16, a public
# address), Oracle Cloud Classic (192.0.0.192), AWS over IPv6 (fd00:ec2::254, inside ULA).
# Refused whatever else the policy allows (a listed network does not open them).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.0.23",
        "100.100.100.200",
        "168.63.129.16",
        "192.0.0.192",
        "fd00:ec2::254",
    )
)
UNSPECIFIED = (ipaddress.ip_network("0.0.0.0/8"), ipaddress.ip_network("::/128"))
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
MULTICAST = (
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("ff00::/8"),
)
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# Private networks an agency service may sit on: opened only by the policy's allowed networks.
PRIVATE = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("fc00::/7"),
)
# IPv6 ranges that carry an IPv4 address (judged as that address).
MAPPED = ipaddress.ip_network("::ffff:0:0/96")
COMPATIBLE = ipaddress.ip_network("::/96")
TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIXTOFOUR = ipaddress.ip_network("2002::/16")
TEREDO = ipaddress.ip_network("2001::/32")
# Refused outright: NAT64 for local use (where the IPv4 address sits depends on a prefix
# length we cannot know), deprecated site-local.
RESERVED = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("fec0::/10"))

REASONS = {
    "unspecified": gettext_lazy("an unspecified address"),
    "link-local": gettext_lazy("a link-local address"),
    "multicast": gettext_lazy("a multicast or broadcast address"),
    "metadata": gettext_lazy("a cloud metadata address"),
    "reserved": gettext_lazy("a reserved address"),
    "loopback": gettext_lazy("a loopback address"),
    "platform": gettext_lazy("an address of the platform itself"),
    "private": gettext_lazy("a private address outside %(setting)s"),
}


class OutboundError(Exception):
    """The platform will not, or cannot, connect there; `str()` is a message for the user."""


class Unresolvable(OutboundError):
    def __init__(self, host: str, error: object):
        self.host, self.error = host, error
        super().__init__(
            _("The address %(host)s cannot be resolved: %(error)s") % {"host": host, "error": error}
        )


class Refused(OutboundError):
    def __init__(self, host: str, address: str, reason: str):
        self.host, self.address, self.reason = host, address, reason
        super().__init__(
            _(
                "The address %(host)s (%(address)s) is %(reason)s; the platform does not connect there."
            )
            % {"host": host, "address": address, "reason": reason}
        )


@dataclass(frozen=True)
class Policy:
    """Where one kind of outbound connection may go. `networks_setting` names the setting that
    lists `allowed_networks` (messages name it). `also_allow`: addresses allowed even if
    loopback, private or the platform's own (never metadata, link-local, multicast or
    unspecified): the demo's database extraction reads the platform's own database server."""

    networks_setting: str
    allowed_networks: tuple[IPNetwork, ...] = ()
    allow_loopback: bool = False
    also_allow: frozenset[IPAddress] = frozenset()

    @classmethod
    def from_settings(cls, prefix: str, *, also_allow: Iterable[IPAddress] = ()) -> Policy:
        """The policy of settings `<prefix>_ALLOWED_NETWORKS` and `<prefix>_ALLOW_LOOPBACK`."""
        name = f"{prefix}_ALLOWED_NETWORKS"
        return cls(
            networks_setting=name,
            allowed_networks=parse_networks(getattr(settings, name, ()) or (), setting=name),
            allow_loopback=bool(getattr(settings, f"{prefix}_ALLOW_LOOPBACK", False)),
            also_allow=frozenset(also_allow),
        )


def parse_networks(values: Iterable[str], *, setting: str) -> tuple[IPNetwork, ...]:
    """CIDRs (`10.20.0.0/16`, `fd12::/48`; a bare address is a /32 or /128) from a setting."""
    networks = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise OutboundError(
                _("%(setting)s: “%(value)s” is not a network in CIDR form (e.g. 10.20.0.0/16).")
                % {"setting": setting, "value": text[:60]}
            ) from None
    return tuple(networks)


def carried_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 address(es) an IPv6 address carries (mapped, compatible, translated, NAT64,
    6to4, Teredo server and client); empty for a plain address."""
    if address.version == 4:
        return ()
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in MAPPED or address in TRANSLATED or address in NAT64:
        return (low,)
    if address in COMPATIBLE and int(address) > 1:  # not :: nor ::1
        return (low,)
    if address in SIXTOFOUR:
        return (address.sixtofour,)
    if address in TEREDO:
        return address.teredo
    return ()


def _in(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _reason(address: IPAddress, policy: Policy, own: frozenset[IPAddress]) -> str | None:
    if address in METADATA:
        return "metadata"
    if _in(address, UNSPECIFIED):
        return "unspecified"
    if _in(address, LINK_LOCAL):
        return "link-local"
    if _in(address, MULTICAST):
        return "multicast"
    if _in(address, RESERVED):
        return "reserved"
    if address in policy.also_allow:
        return None
    if _in(address, LOOPBACK):
        return None if policy.allow_loopback else "loopback"
    if address in own:
        return None if policy.allow_loopback else "platform"
    if _in(address, PRIVATE):
        return None if _in(address, policy.allowed_networks) else "private"
    if not address.is_global:
        return "reserved"  # documentation, benchmarking, protocol assignments, ...
    return None


def refusal(
    address: IPAddress, policy: Policy, own: frozenset[IPAddress] = frozenset()
) -> str | None:
    """Why the policy refuses `address` (a translated phrase), or None if it may be reached.
    `own`: the platform's own addresses (`platform_addresses`)."""
    carried = carried_ipv4(address)
    for candidate in carried or (address,):
        key = _reason(candidate, policy, own)
        if key is not None:
            reason = str(REASONS[key])
            return reason % {"setting": policy.networks_setting} if key == "private" else reason
    return None


def interface_addresses() -> frozenset[IPAddress]:
    """The addresses of this machine's network interfaces (Linux: /proc), and those its host
    name resolves to."""
    found: set[IPAddress] = set()
    try:  # IPv4: the kernel's local routes ("/32 host LOCAL"), every interface and alias.
        previous = ""
        for line in Path("/proc/net/fib_trie").read_text().splitlines():
            if "/32 host LOCAL" in line and previous:
                found.add(ipaddress.ip_address(previous.split()[-1]))
            previous = line
    except (OSError, ValueError):
        pass
    try:  # IPv6: one address per line, 32 hex digits first.
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            digits = line.split()[0]
            found.add(ipaddress.IPv6Address(int(digits, 16)))
    except (OSError, ValueError, IndexError):
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM):
            found.add(_address(info[4][0]))
    except (OSError, UnicodeError, ValueError):
        pass
    return frozenset(found)


def _own_host_patterns() -> list[str]:
    return [h for h in getattr(settings, "ALLOWED_HOSTS", []) if h and h != "*"]


def platform_addresses(resolver: Resolver | None = None) -> frozenset[IPAddress]:
    """This machine's addresses and those of the platform's own host names (`ALLOWED_HOSTS`;
    a `.example.org` pattern stands for example.org and its subdomains)."""
    resolve_name = resolver or socket.getaddrinfo
    found = set(interface_addresses())
    for pattern in _own_host_patterns():
        name = pattern.lstrip(".").strip("[]")
        try:
            found.add(ipaddress.ip_address(name))
            continue
        except ValueError:
            pass
        try:
            for info in resolve_name(name, None, type=socket.SOCK_STREAM):
                found.add(_address(info[4][0]))
        except (OSError, UnicodeError, ValueError):
            pass
    return frozenset(found)


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%")[0])


def _connect_address(address: IPAddress) -> IPAddress:
    """Where to connect for a checked address: an IPv4-mapped address is its IPv4 address."""
    if address.version == 6 and address in MAPPED:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Destination:
    """A host and port resolved once, with the addresses the policy accepted (in the
    resolver's order). Connect only through these."""

    host: str
    port: int
    addresses: tuple[IPAddress, ...]
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    @property
    def hostaddr(self) -> str:
        """The checked addresses, comma-separated (libpq's `hostaddr`)."""
        return ",".join(str(a) for a in self.addresses)

    def connect(self, timeout: float | None = None) -> socket.socket:
        """A TCP connection to the first checked address that answers."""
        if timeout is socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
            timeout = socket.getdefaulttimeout()
        error: OSError | None = None
        for address in self.addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect((str(address), self.port))
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"no address for {self.host}")

    def pin(self, connection: http.client.HTTPConnection) -> http.client.HTTPConnection:
        """Make an http.client connection open its socket to the checked addresses."""
        if connection.host.lower().rstrip(".") != self.host or connection.port != self.port:
            raise Refused(
                f"{connection.host}:{connection.port}",
                f"{self.host}:{self.port}",
                _("another host than the one checked"),
            )

        def create_connection(address, timeout=None, source_address=None, **kwargs):
            return self.connect(timeout)

        connection._create_connection = create_connection  # type: ignore[attr-defined]
        return connection

    def opener(self) -> urllib.request.OpenerDirector:
        """A urllib opener that reaches only this destination, over http or https, to the
        checked addresses, following no redirect and using no proxy."""
        opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            _NoRedirect(),
            _PinnedHTTPHandler(self),
            _PinnedHTTPSHandler(self, self.ssl_context),
        ):
            opener.add_handler(handler)
        return opener


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx is then raised as an HTTPError for the caller to refuse


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, destination: Destination):
        super().__init__()
        self.destination = destination

    def http_open(self, req):
        def connection(host, **kwargs):
            return self.destination.pin(http.client.HTTPConnection(host, **kwargs))

        return self.do_open(connection, req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, destination: Destination, context: ssl.SSLContext | None):
        super().__init__(context=context or ssl.create_default_context())
        self.destination = destination

    def https_open(self, req):
        def connection(host, **kwargs):
            return self.destination.pin(http.client.HTTPSConnection(host, **kwargs))

        return self.do_open(connection, req, context=self._context)


def resolve(
    host: str, port: int, *, policy: Policy, resolver: Resolver | None = None
) -> Destination:
    """Resolve `host` once and check every address it has against `policy`; the Destination
    to connect to, or OutboundError saying why not."""
    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if not host:
        raise Unresolvable("''", _("no host given"))
    resolve_name = resolver or socket.getaddrinfo
    try:
        literal = _address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        patterns = _own_host_patterns()
        if patterns and validate_host(host, patterns) and not policy.allow_loopback:
            raise Refused(host, host, str(REASONS["platform"]))
        try:
            infos = resolve_name(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Unresolvable(host, exc) from exc
        found = []
        for info in infos:
            if info[0] in (socket.AF_INET, socket.AF_INET6):
                address = _address(info[4][0])
                if address not in found:
                    found.append(address)
        if not found:
            raise Unresolvable(host, _("no address"))
    own = platform_addresses(resolver)
    for address in found:
        reason = refusal(address, policy, own)
        if reason is not None:
            shown = str(address)
            if carried_ipv4(address):
                shown += " → " + ", ".join(str(a) for a in carried_ipv4(address))
            raise Refused(host, shown, reason)
    addresses = []
    for address in found:
        target = _connect_address(address)
        if target not in addresses:
            addresses.append(target)
    return Destination(host=host, port=int(port), addresses=tuple(addresses))


def resolve_url(
    url: str,
    *,
    policy: Policy,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Destination:
    """The checked Destination of an http or https URL (see `resolve`); `ssl_context` is the
    one its HTTPS connections use (default: the system's trust store, host name checked)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError(_("Give an http or https address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundError(_("Give an http or https address.")) from exc
    destination = resolve(parts.hostname, port, policy=policy, resolver=resolver)
    if ssl_context is None:
        return destination
    return Destination(destination.host, destination.port, destination.addresses, ssl_context)
