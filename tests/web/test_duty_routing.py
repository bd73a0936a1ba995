"""Routing a duty report to a police force by postcode: postcodes read in Royal Mail's published
format (outward code = area letters + district; inward code = sector digit + two unit letters),
a district's row before its area's, the shipped area table's promises, and a deployment's
table that cannot be read named without its values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.web.app import create_app
from casebridge.web.config import ServiceSettings
from casebridge.web.services.duty_routing import (
    RoutingTableError,
    parse_postcode,
    read_table,
    routing_table,
)
from tests.web.support import closing

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
areas = st.text(LETTERS, min_size=1, max_size=2)
districts = st.tuples(areas, st.integers(0, 99)).map(lambda a: f"{a[0]}{a[1]}")
inwards = st.tuples(st.integers(0, 9), st.text(LETTERS, min_size=2, max_size=2)).map(
    lambda i: f"{i[0]}{i[1]}"
)


@given(districts, inwards, st.sampled_from(["", " ", "  "]), st.booleans())
def test_a_postcode_in_any_case_and_spacing_gives_its_district_and_area(
    district: str, inward: str, space: str, lower: bool
) -> None:
    typed = f"{district}{space}{inward}"
    parsed = parse_postcode(typed.lower() if lower else typed)
    assert parsed is not None
    assert parsed.text == f"{district} {inward}" and parsed.district == district
    assert district.startswith(parsed.area) and parsed.area.isalpha()


@pytest.mark.parametrize(
    ("typed", "district", "area"),
    # Royal Mail's examples of each outward-code shape: A9, A99, AA9, AA99, A9A, AA9A
    [("M1 1AE", "M1", "M"), ("B33 8TH", "B33", "B"), ("CR2 6XH", "CR2", "CR"),
     ("DN55 1PT", "DN55", "DN"), ("W1A 0AX", "W1A", "W"), ("EC1A 1BB", "EC1A", "EC"),
     ("sw1a", "SW1A", "SW")],
)  # fmt: skip
def test_royal_mails_outward_code_shapes_are_read(typed: str, district: str, area: str) -> None:
    parsed = parse_postcode(typed)
    assert parsed is not None and (parsed.district, parsed.area) == (district, area)


@pytest.mark.parametrize("typed", ["", "12345", "SW1A 1A", "not a postcode", "1AA 1AA", "=A1"])
def test_what_is_no_postcode_is_refused(typed: str) -> None:
    assert parse_postcode(typed) is None


def test_a_district_row_wins_over_its_area_row(tmp_path: Path) -> None:
    path = tmp_path / "routes.csv"
    path.write_text("# test\npostcode,force\nNS,Area Police\nns 1,District Police\n", "utf-8")
    table = read_table(path, "routes.csv")
    assert table.force_for(parse_postcode("NS1 4QT")) == "District Police"
    assert table.force_for(parse_postcode("NS2 4QT")) == "Area Police"
    assert table.force_for(parse_postcode("ZZ9 9ZZ")) is None
    assert table.force_for(None) is None


def test_the_shipped_table_holds_whole_areas_only_and_names_its_source() -> None:
    table = routing_table(Path("."), None)
    assert table.forces and all(key.isalpha() and len(key) <= 2 for key in table.forces)
    # areas that reach into the City of London Police's square mile are not guessed
    assert not {"E", "EC", "WC"} & set(table.forces)
    assert table.forces["SW"] == "Metropolitan Police Service"
    assert table.force_for(parse_postcode("BN1 1AA")) == "Sussex Police"
    shipped = Path(__file__).parents[2] / "casebridge/web/data/police_force_postcode_areas.csv"
    head = shipped.read_text("utf-8").split("postcode,force")[0]
    assert "ONS Postcode Directory" in head and "CASEBRIDGE_DUTY_ROUTING" in head


@pytest.mark.parametrize(
    "text",
    ["postcode,force\n<script>,Somewhere Police\n", "area,police\nNS1,Northshire Police\n",
     "postcode,force\nNS1\n"],
)  # fmt: skip
def test_a_table_that_cannot_be_used_is_named_without_its_values(tmp_path: Path, text: str) -> None:
    path = tmp_path / "routes.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(RoutingTableError) as refused:
        read_table(path, "routes.csv")
    assert "routes.csv" in str(refused.value) and "<script>" not in str(refused.value)


def test_the_service_does_not_start_without_the_table_it_is_given(
    service_settings: ServiceSettings,
) -> None:
    missing = service_settings.model_copy(update={"duty_routing_file": Path("no-such.csv")})
    with pytest.raises(RoutingTableError, match="CASEBRIDGE_DUTY_ROUTING"):
        with closing(create_app(missing)):
            pass
