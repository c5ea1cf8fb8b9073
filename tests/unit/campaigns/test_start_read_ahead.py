"""A campaign start reads the next chunk of contacts on a thread while it writes the current one."""

import threading

import pytest

from oie.campaigns.starting import _read_ahead
from oie.errors import BackendUnavailable
from tests.unit.campaigns.factories import make_contact


def chunk(n):
    return [make_contact(lead_id=f"ld_{n:016d}", email=f"p{n}@example.com")]


def test_every_chunk_arrives_in_order():
    got = [c[0].lead_id for c in _read_ahead(iter([chunk(n) for n in range(7)]))]
    assert got == [f"ld_{n:016d}" for n in range(7)]


def test_a_read_that_fails_raises_in_the_caller_after_the_chunks_before_it():
    def source():
        yield chunk(0)
        raise BackendUnavailable("firestore timed out")

    seen = []
    with pytest.raises(BackendUnavailable, match="timed out"):
        for c in _read_ahead(source()):
            seen.append(c)
    assert len(seen) == 1


def test_a_caller_that_stops_early_stops_the_reading_too():
    pulled = []

    def source():
        for n in range(1000):
            pulled.append(n)
            yield chunk(n)

    reads = _read_ahead(source())
    next(reads)
    reads.close()
    assert len(pulled) <= 3  # the chunk handed over, one waiting, one being offered: never the rest
    assert not any(t.name == "start-read-ahead" for t in threading.enumerate())
