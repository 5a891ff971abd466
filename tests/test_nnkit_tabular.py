"""nnkit.datasets.tabular.read_csv: numbers only, every problem named by a code, nothing executed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from nnkit.datasets.tabular import MAX_BYTES, MAX_ROWS, MIN_ROWS, Table, TableError, read_csv


def error_of(data: bytes, **kwargs) -> TableError:
    with pytest.raises(TableError) as info:
        read_csv(data, **kwargs)
    return info.value


# --- good files ---------------------------------------------------------------------------------

def test_good_file_numeric_columns_and_skipped_text():
    data = b"size,price,city,rooms\n50, 120.5,Lyon,2\n72.5,1.8e2,Paris,3\n-1,-0.25,Nice,4\n1e3,7,Metz,5\n"
    table = read_csv(data)
    assert isinstance(table, Table)
    assert list(table.columns) == ["size", "price", "rooms"]  # file order, text column left out
    assert table.skipped == ["city"]
    assert table.rows == 4
    for values in table.columns.values():
        assert isinstance(values, np.ndarray) and values.dtype == np.float64
    np.testing.assert_array_equal(table.columns["size"], [50.0, 72.5, -1.0, 1000.0])
    np.testing.assert_array_equal(table.columns["price"], [120.5, 180.0, -0.25, 7.0])
    np.testing.assert_array_equal(table.columns["rooms"], [2.0, 3.0, 4.0, 5.0])


def test_blank_header_names_get_a_column_number_and_quoted_numbers_count():
    table = read_csv(b'x,\n"1","2"\n2,3\n3,4\n')
    assert list(table.columns) == ["x", "column 2"]
    np.testing.assert_array_equal(table.columns["x"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(table.columns["column 2"], [2.0, 3.0, 4.0])


@pytest.mark.parametrize("sep", [b";", b"\t"])
def test_semicolon_and_tab_separated(sep):
    data = sep.join([b"x", b"y", b"label"]) + b"\n" + b"\n".join(
        sep.join([f"{i + 0.5}".encode(), f"{2 * i}".encode(), b"a b"]) for i in range(5)) + b"\n"
    table = read_csv(data)
    assert list(table.columns) == ["x", "y"] and table.skipped == ["label"]
    np.testing.assert_array_equal(table.columns["x"], [0.5, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(table.columns["y"], [0.0, 2.0, 4.0, 6.0, 8.0])


def test_utf8_bom_is_not_part_of_the_first_name():
    table = read_csv(b"\xef\xbb\xbfx,y\r\n1,2\r\n2,4\r\n3,6\r\n")
    assert list(table.columns) == ["x", "y"]
    np.testing.assert_array_equal(table.columns["y"], [2.0, 4.0, 6.0])


@pytest.mark.parametrize("cell, line", [(b"1e309", 3), (b"-1E400", 3), (b"inf", 2), (b"-Infinity", 4)])
def test_a_number_no_float64_holds_is_named_not_taken_for_text(cell, line):
    rows = [b"1", b"2", b"3"]
    rows[line - 2] = cell
    err = error_of(b"x,y\n" + b"".join(b"%d,%s\n" % (i, r) for i, r in enumerate(rows)))
    assert err.code == "not_finite"
    assert err.details == {"column": "y", "row": line, "value": cell.decode()}
    assert f"row {line}: {cell.decode()} is infinite or beyond the largest number a float64 holds" in str(err)


@pytest.mark.parametrize("data, example", [
    (b"x;y\n1,5;2\n2,5;3\n3;4\n", "1,5"),
    (b"x\ty\n-0,25\t2\n2,5\t3\n3,1\t4\n", "-0,25"),
    (b"x;y\n1.234,5;2\n2;3\n3,75;4\n", "1.234,5"),
    (b'x,y\n"1,5",2\n"2,5",3\n"3,5",4\n', "1,5"),
])
def test_numbers_with_decimal_commas_are_named_not_taken_for_text(data, example):
    err = error_of(data)
    assert err.code == "decimal_comma" and err.details == {"column": "x", "example": example}


def test_text_with_commas_is_still_text():
    table = read_csv(b'x,y,name\n1,2,"a,b"\n3,4,"1,2 apples"\n5,6,c\n')
    assert list(table.columns) == ["x", "y"] and table.skipped == ["name"]


# --- every error code ---------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  "])
def test_empty(data):
    err = error_of(data)
    assert err.code == "empty" and err.details == {}
    assert isinstance(err, ValueError)


def test_only_separators_is_a_table_error():
    err = error_of(b",,\n,,\n , \n")
    assert err.code in ("empty", "not_csv")


@pytest.mark.parametrize("data", [b"x,y\n1,\x002\n2,3\n3,4\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_not_text_binary(data):
    err = error_of(data)
    assert err.code == "not_text" and "binary" in str(err)


@pytest.mark.parametrize("data", [b"\xff\xfe\xfa\xfb,x\n1,2\n2,3\n3,4\n", "x,y\nd\u00e9j\u00e0,1\n".encode("latin-1")])
def test_not_text_invalid_utf8(data):
    err = error_of(data)
    assert err.code == "not_text" and "UTF-8" in str(err)


@pytest.mark.parametrize("data", [
    b"x\n1\n2\n3\n4\n",  # a single column
    b"x,y\n1,2\n2,3\n",  # too few rows
    b"x,y\n",  # a header alone
    b"x,y\n1,2\n\n\n2,3\n",  # blank lines are not rows
])
def test_not_csv(data):
    err = error_of(data)
    assert err.code == "not_csv" and err.details == {"min_rows": MIN_ROWS}


def test_exactly_min_rows_is_enough():
    assert read_csv(b"x,y\n1,2\n2,3\n3,4\n").rows == MIN_ROWS == 3


def test_ragged_names_the_file_row():
    err = error_of(b"x,y\n1,2\n2,3\n3,4,5\n4,5\n5\n")
    assert err.code == "ragged"
    assert err.details == {"row": 4}  # line 1 is the header: the first odd row is line 4
    assert "row 4" in str(err)


def test_row_numbers_count_blank_lines():
    err = error_of(b"x,y\n1,2\n\n2,3\n3,4,5\n4,5\n")
    assert err.details == {"row": 5}
    err = error_of(b"x,y\n1,2\n\n3,\n4,5\n5,6\n")
    assert "y (row 4)" in str(err)


def test_no_numeric_lists_the_skipped_columns():
    err = error_of(b"name,city\nAnna,Lyon\nBen,Paris\nCleo,Nice\n")
    assert err.code == "no_numeric"
    assert err.details == {"skipped": "name, city"}


def test_missing_names_columns_and_file_rows():
    data = b"x,y,z\n1,2,3\nna,3,4\n3,NaN,5\n4,,6\n5,6,7\n6,7,?\n"
    err = error_of(data)
    assert err.code == "missing"
    # 1-based file rows: the header is row 1
    assert err.details == {"where": "x (row 3); y (row 4, 5); z (row 7)"}
    assert str(err) == "missing values in x (row 3); y (row 4, 5); z (row 7)"


def test_missing_lists_three_rows_then_dots():
    err = error_of(b"x,y\n1,\n2,NULL\n3,none\n4,-\n5,6\n")
    assert err.code == "missing"
    assert err.details == {"where": "y (row 2, 3, 4...)"}


def test_missing_cells_in_a_text_column_do_not_count():
    table = read_csv(b"x,y,name\n1,2,\n2,3,Ben\n3,4,na\n")
    assert list(table.columns) == ["x", "y"] and table.skipped == ["name"]


def exact_size_file(size: int) -> bytes:
    """A valid CSV of exactly `size` bytes, far below MAX_ROWS: 100-byte rows, the last one padded."""
    header = b"x,y\n"
    row = b"1," + b"0" * 96 + b"2\n"  # y = 000...02 = 2.0
    n, rest = divmod(size - len(header), len(row))
    assert rest >= 5
    last = b"1," + b"0" * (rest - 4) + b"2\n"
    data = header + row * n + last
    assert len(data) == size
    return data


def test_too_big_just_over_the_limit():
    data = exact_size_file(MAX_BYTES) + b"\n"
    assert len(data) == MAX_BYTES + 1
    err = error_of(data)
    assert err.code == "too_big"
    assert err.details == {"size": MAX_BYTES + 1, "limit": MAX_BYTES}
    assert "1,048,577" in str(err)


def test_exactly_max_bytes_is_not_rejected_for_size():
    data = exact_size_file(MAX_BYTES)
    table = read_csv(data)
    assert table.rows == (MAX_BYTES - 4) // 100 + 1 < MAX_ROWS
    assert (table.columns["y"] == 2.0).all() and (table.columns["x"] == 1.0).all()


def test_max_bytes_argument():
    data = b"x,y\n1,2\n2,3\n3,4\n"
    assert read_csv(data, max_bytes=len(data)).rows == 3
    err = error_of(data, max_bytes=len(data) - 1)
    assert err.code == "too_big" and err.details == {"size": len(data), "limit": len(data) - 1}


def test_too_many_rows():
    err = error_of(b"x,y\n" + b"1,2\n" * (MAX_ROWS + 1))
    assert err.code == "too_many_rows"
    assert err.details == {"rows": MAX_ROWS + 1, "limit": MAX_ROWS}
    assert read_csv(b"x,y\n" + b"1,2\n" * MAX_ROWS).rows == MAX_ROWS


# --- hostile files ------------------------------------------------------------------------------

class _OpensAFile:
    """Unpickling this creates a file: exactly what read_csv must never do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", [0, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_pickle_payload_is_rejected_and_never_loaded(tmp_path, protocol):
    target = tmp_path / f"created_by_unpickling_{protocol}.txt"
    payload = pickle.dumps(_OpensAFile(target), protocol=protocol)
    # the payload is live: unpickling it would create the file (checked on a different path)
    probe = tmp_path / "probe.txt"
    pickle.loads(pickle.dumps(_OpensAFile(probe), protocol=protocol)).close()
    assert probe.exists()
    with pytest.raises(TableError) as info:
        read_csv(payload)
    assert info.value.code in ("not_text", "not_csv")
    assert not target.exists()


def test_formula_and_code_cells_are_text_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    data = ("x,y,formula,code\n"
            f"1,2,=cmd|' /C calc'!A0,{code}\n"
            "2,4,=1+1,1+1\n"
            "3,6,@SUM(A1:A3),2*3\n").encode()
    table = read_csv(data)
    assert list(table.columns) == ["x", "y"]
    assert table.skipped == ["formula", "code"]  # "=1+1" and "2*3" are text, not 2 and 6
    np.testing.assert_array_equal(table.columns["y"], [2.0, 4.0, 6.0])
    assert not marker.exists()


def test_only_formulas_is_no_numeric():
    err = error_of(b"a,b\n=1+1,=2\n=3,+4+1\n=HYPERLINK(\"x\"),=5\n")
    assert err.code == "no_numeric" and err.details == {"skipped": "a, b"}


def test_duplicate_column_names_are_kept_apart_with_a_suffix():
    table = read_csv(b"x,x,y\n1,2,3\n4,5,6\n7,8,9\n")
    assert list(table.columns) == ["x", "x (2)", "y"]
    assert [table.columns[n].tolist() for n in table.columns] == [[1, 4, 7], [2, 5, 8], [3, 6, 9]]


def test_a_cell_beyond_the_csv_field_limit_is_a_table_error():
    err = error_of(b"a,b\n1,2\n3,4\n5,6\n7," + b"9" * 200_000 + b"\n")
    assert err.code == "not_csv"


def test_repeated_names_that_collide_with_suffixes_keep_every_column():
    table = read_csv(b"a,a,a (2),a (2)\n1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    assert len(table.columns) == 4
    assert [table.columns[n][0] for n in table.columns] == [1, 2, 3, 4]
