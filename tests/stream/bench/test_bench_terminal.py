"""Off a terminal the benches show no progress and print their rows as plain lines, as they come."""

from stream.bench.terminal import Rows, Steps


def test_rows_are_plain_lines_after_the_plain_header(capsys):
    rows = Rows("name", "figure", header="  name  figure")
    assert rows.live is None
    with Steps(2, above=rows.live) as steps:
        steps.start("first")
        rows.add(["a", "1"], "  a     1")
        steps.start("second")
        rows.add(["b", "2"], "  b     2")
    rows.show()
    captured = capsys.readouterr()
    assert captured.out == "  name  figure\n  a     1\n  b     2\n" and captured.err == ""
