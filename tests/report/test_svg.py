"""The SVG primitives: stable coordinates, round ticks, escaping, wrapping."""

from __future__ import annotations

from diarytrial.report import svg


def test_coordinates_have_at_most_one_decimal_and_no_negative_zero() -> None:
    assert svg.num(12.04) == "12"
    assert svg.num(12.06) == "12.1"
    assert svg.num(-0.01) == "0"
    assert svg.num(-3.25) == "-3.2"


def test_ticks_are_round_numbers_covering_the_range() -> None:
    assert svg.nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(-7.3, 42.0, 5) == [0, 10, 20, 30, 40]
    assert svg.nice_domain(-7.3, 42.0, 5) == (-10, 50)
    assert svg.nice_ticks(0, 0.3, 3) == [0, 0.1, 0.2, 0.3]


def test_scale_maps_the_domain_onto_pixels() -> None:
    scale = svg.Scale(0, 100, 200, 0)  # y grows downwards
    assert scale(0) == 200
    assert scale(25) == 150


def test_text_from_data_is_escaped() -> None:
    out = svg.text(1, 2, '<script>alert("x")</script> & co')
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "&amp; co" in out


def test_wrap_keeps_words_whole_and_lines_short() -> None:
    lines = svg.wrap("Allocated to Low-dose naltrexone → Placebo", 120, size=10)
    assert len(lines) > 1
    assert " ".join(lines) == "Allocated to Low-dose naltrexone → Placebo"


def test_document_has_a_title_and_a_viewbox() -> None:
    out = svg.document(100, 50, [svg.line(0, 0, 10, 10)], title="A & B")
    assert out.startswith("<svg ")
    assert 'viewBox="0 0 100 50"' in out
    assert "<title>A &amp; B</title>" in out
