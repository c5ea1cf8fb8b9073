"""IP -> company from a CSV file (`cidr,name,domain`), so a tenant can plug in its own data."""

from __future__ import annotations

import bisect
import csv
import ipaddress
from pathlib import Path

from oie.ports import Company

_MAX_NESTING = 32


class FileCompanyLookup:
    """Ranges sorted by start address; a look-up is one binary search per IP version."""

    def __init__(self, path: Path | None) -> None:
        self._starts: dict[int, list[int]] = {4: [], 6: []}
        self._ranges: dict[int, list[tuple[int, int, Company]]] = {4: [], 6: []}
        if path is None:
            return
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("cidr") and not r["cidr"].startswith("#")]
        ranges = []
        for row in rows:
            network = ipaddress.ip_network(row["cidr"].strip(), strict=False)
            company = Company(name=row.get("name", "").strip(), domain=row.get("domain", "").strip())
            ranges.append((network.version, int(network.network_address), int(network.broadcast_address), company))
        # Equal starts: the widest first, so the walk below meets the narrowest first.
        for version, start, end, company in sorted(ranges, key=lambda r: (r[0], r[1], r[1] - r[2])):
            self._ranges[version].append((start, end, company))
            self._starts[version].append(start)

    def lookup(self, ip: str | None) -> Company | None:
        if not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value, version = int(address), address.version
        index = bisect.bisect_right(self._starts[version], value) - 1
        # The nearest range starting at or before the address is the most specific one;
        # when it ends too early, an enclosing range may start a little further back.
        for candidate in range(index, max(index - _MAX_NESTING, -1), -1):
            start, end, company = self._ranges[version][candidate]
            if start <= value <= end:
                return company
        return None
