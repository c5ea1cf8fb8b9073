import itertools
import re

import pytest

from oie.links import ids

SECRET = b"k" * 32


def test_same_person_same_campaign_gets_the_same_id_every_time():
    first = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")
    again = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")
    assert first == again


def test_ids_are_eight_base62_characters_first():
    candidate = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")[0]
    assert re.fullmatch(r"[0-9A-Za-z]{8}", candidate)


def test_ids_depend_on_the_key_so_they_cannot_be_computed_without_it():
    with_key = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")[0]
    other_key = ids.tracking_id_candidates(b"x" * 32, "acme", "q1", "ada@example.com")[0]
    assert with_key != other_key


def test_ids_differ_per_campaign_tenant_and_email():
    base = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")[0]
    assert base != ids.tracking_id_candidates(SECRET, "acme", "q2", "ada@example.com")[0]
    assert base != ids.tracking_id_candidates(SECRET, "beta", "q1", "ada@example.com")[0]
    assert base != ids.tracking_id_candidates(SECRET, "acme", "q1", "bob@example.com")[0]


def test_collision_candidates_grow_one_character_at_a_time_up_to_sixteen():
    candidates = ids.tracking_id_candidates(SECRET, "acme", "q1", "ada@example.com")
    assert [len(c) for c in candidates] == list(range(8, 17))
    assert all(longer.startswith(shorter) for shorter, longer in itertools.pairwise(candidates))


def test_ids_spread_over_the_whole_alphabet():
    seen = set()
    for n in range(300):
        seen.update(ids.tracking_id_candidates(SECRET, "acme", "q1", f"p{n}@example.com")[0])
    assert len(seen) > 55  # of 62; a biased encoding would show far fewer


def test_lead_id_is_stable_and_hides_the_email():
    lead = ids.lead_id(SECRET, "acme", "ada@example.com")
    assert lead == ids.lead_id(SECRET, "acme", "ada@example.com")
    assert lead.startswith("ld_") and "ada" not in lead
    assert lead != ids.lead_id(SECRET, "beta", "ada@example.com")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Q1 Enterprise", "q1-enterprise"), ("  Spring — Promo!! ", "spring-promo"), ("ABC", "abc")],
)
def test_campaign_ids_are_readable_slugs(name, expected):
    assert ids.campaign_id(name) == expected


def test_campaign_name_without_letters_is_refused():
    with pytest.raises(ValueError, match="letter or digit"):
        ids.campaign_id("!!!")


def test_base62_round_trips_big_numbers():
    value = 62**5 + 17
    encoded = ids.base62(value.to_bytes(8, "big"))
    decoded = 0
    for ch in encoded:
        decoded = decoded * 62 + ids.BASE62.index(ch)
    assert decoded == value
