"""Uploads by value: the exact sentence for each file bnviz cannot use, the size and row limits
exactly at the bound and one over, and the classes, names and notes a usable file gives."""
import io

import numpy as np
import pytest

from bnviz.csvread import MAX_BYTES, DataError, read_table

ROWS8 = "".join(f"{i},{10 - i},{i % 2}\n" for i in range(1, 9))     # 8 rows of a, b, placed


def refused(source, **kwargs) -> str:
    with pytest.raises(DataError) as err:
        read_table(source, **kwargs)
    return str(err.value)


def csv(header: str, rows: list) -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").encode()


# ---- where the bytes come from

class _Broken:
    def read(self, size):
        raise OSError("x" * 300)


def test_an_unexpected_error_is_named_with_its_type_and_a_shortened_message():
    assert refused(_Broken()) == f"The file could not be read as a table (OSError: {'x' * 199}…)."


def test_a_missing_path_is_quoted():
    assert refused("/no/such/dir/marks.csv") == "There is no file at '/no/such/dir/marks.csv'."


def test_something_that_is_not_a_file_is_named_by_its_type():
    assert refused(42) == "Expected a path, bytes or an open file, got int."


def _exactly(size: int) -> bytes:
    """A usable table of exactly `size` bytes: blank lines pad the middle, the last byte is a label."""
    head, tail = b"a,b,placed\n" + ROWS8.encode(), b"9,1,1"
    return head + b"\n" * (size - len(head) - len(tail)) + tail


def test_a_file_of_exactly_the_limit_is_read_whole(tmp_path):
    data = _exactly(MAX_BYTES)
    assert len(data) == 5_242_880
    path = tmp_path / "limit.csv"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        table = read_table(source)
        assert table.y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1]
        assert table.X[-1].tolist() == [9.0, 1.0]


def test_a_file_one_byte_over_the_limit_is_refused_with_its_size(tmp_path):
    data = _exactly(MAX_BYTES + 1)
    path = tmp_path / "over.csv"
    path.write_bytes(data)
    sized = ("The file is 5.0 MB (5,242,881 bytes); the limit for an upload is 5 MB (5,242,880 bytes). "
             "Upload at most 100,000 rows, or fewer columns.")
    assert refused(path) == sized
    assert refused(data) == sized
    assert refused(io.BytesIO(data)) == ("The file is larger; the limit for an upload is 5 MB (5,242,880 bytes). "
                                         "Upload at most 100,000 rows, or fewer columns.")


def test_an_open_file_is_read_only_up_to_one_byte_past_the_limit():
    asked = []

    class Reader:
        def read(self, size):
            asked.append(size)
            return b"x" * 10

    refused(Reader())
    assert asked == [5_242_881]


def test_an_open_text_file_is_read():
    table = read_table(io.StringIO("a,b,placed\n" + ROWS8))
    assert table.feature_names == ("a", "b") and table.y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]


# ---- text that is not a CSV table

@pytest.mark.parametrize("data", [b"", b"  \n\t\n", "\u00a0\n\u00a0\n".encode()])
def test_an_empty_file(data):
    assert refused(data) == "The file is empty."


BINARY = ("This is a binary file (a spreadsheet, an image or a PDF?), not CSV text. "
          "Save it as CSV and upload that.")


@pytest.mark.parametrize("start", [b"PK\x03\x04", b"\x89PNG", b"%PDF", b"\xd0\xcf\x11\xe0", b"a,b\x00"])
def test_a_binary_file_by_its_first_bytes(start):
    assert refused(start + b"rest,of,it\n" + ROWS8.encode()) == BINARY


def test_only_the_first_4096_bytes_are_looked_at_for_a_zero_byte():
    head = b"a,b,placed,note\n" + "".join(f"{i},{10 - i},{i % 2},x\n" for i in range(1, 9)).encode()
    data = head + b"\n" * (4096 - len(head) - len(b"9,1,1,")) + b"9,1,1,\x00\n"
    assert data.index(b"\x00") == 4096
    assert read_table(data).y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1]
    assert refused(data[:4095] + b"\x00" + data[4096:]) == BINARY


CONTROL = "This does not look like CSV text: it is full of control characters. Save it as CSV."


def _with_odd(count: int, odd: str = "\x01", length: int = 0) -> bytes:
    """a, b, placed rows and a text column holding `count` odd characters, padded to `length` characters."""
    text = "a,b,placed,note\n" + "".join(f"{i},{10 - i},{i % 2},{odd if i <= count else 'x'}\n"
                                         for i in range(1, 9))
    assert count <= 8
    return (text + "\n" * max(0, length - len(text))).encode()


def test_two_control_characters_in_a_small_file_are_allowed_three_are_not():
    assert len(_with_odd(3)) < 150
    assert read_table(_with_odd(2)).y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    assert refused(_with_odd(3)) == CONTROL
    assert refused(_with_odd(3, "\ufffd")) == CONTROL     # a character that could not be decoded counts


def test_the_control_character_allowance_grows_by_one_per_50_characters():
    assert len(_with_odd(3, length=150).decode()) == 150                  # 150 // 50 = 3 allowed
    assert read_table(_with_odd(3, length=150)).y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    assert refused(_with_odd(4, length=150)) == CONTROL


def test_the_control_characters_are_counted_in_the_first_4096_characters():
    body = "a,b,placed,note\n" + "".join(f"{i},{10 - i},{i % 2},{'x' if i > 1 else chr(1) * 81}\n"
                                          for i in range(1, 9))    # 4096 // 50 = 81 allowed
    data = (body + "\n" * (4096 - len(body) - len("9,1,1,")) + "9,1,1,\x01\n").encode()
    assert len(data.decode()) == 4098 and data.decode()[4096] == "\x01"
    assert read_table(data).y.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1]
    assert refused(data.replace(b"\x01\n", b"\x01\x01\n", 1)) == CONTROL      # 82 in the first 4096


def test_a_file_that_is_not_utf8_is_read_as_windows_text():
    table = read_table("café,b,placed\n".encode("cp1252") + ROWS8.encode("cp1252"))
    assert table.feature_names == ("café", "b")


# ---- the header and the rows

def test_a_header_with_one_column():
    assert refused(b"a b placed\n1 2 1\n") == ("The header has a single column. Separate the columns with commas "
                                              "(or semicolons), e.g. 'cgpa,iq,placed'.")


def test_a_quoted_cell_over_a_line_end():
    assert refused(b'a,b,placed\n1,"2\n3",1\n' + ROWS8.encode()) == (
        "A quoted cell runs over the end of a line; close every opening quote mark.")


def test_a_header_without_rows():
    assert refused(b"a,b,placed\n\n") == "The file has a header but no data rows."


def test_eight_rows_are_enough_seven_are_not():
    rows = ROWS8.splitlines()
    assert read_table(csv("a,b,placed", rows)).X.shape == (8, 2)
    assert refused(csv("a,b,placed", rows[:7])) == ("The file has 7 data rows; at least 8 are needed to train "
                                                   "and test.")


def test_exactly_the_row_limit_is_read_one_more_is_refused():
    rows = [f"{i % 7},{i % 5},{i % 2}" for i in range(100_000)]
    assert read_table(csv("a,b,placed", rows)).X.shape == (100_000, 2)
    assert refused(csv("a,b,placed", rows + ["1,2,1"])) == "The file has 100,001 rows; the limit is 100,000."


def test_a_row_with_the_wrong_number_of_cells_names_up_to_eight_columns():
    eight = ",".join(f"c{j}" for j in range(1, 8)) + ",placed"
    rows = [",".join(str(i + j) for j in range(7)) + f",{i % 2}" for i in range(8)]
    assert refused(csv(eight, rows + ["1,2"])) == (
        "Line 10 has 2 cells but the header has 8 columns (c1, c2, c3, c4, c5, c6, c7, placed).")
    nine = ",".join(f"c{j}" for j in range(1, 9)) + ",placed"
    rows = [",".join(str(i + j) for j in range(8)) + f",{i % 2}" for i in range(8)]
    assert refused(csv(nine, rows + ["1,2"])) == (
        "Line 10 has 2 cells but the header has 9 columns (c1, c2, c3, c4, c5, c6, c7, c8, … (9 in all)).")


def test_header_names_lose_quotes_and_blanks_get_a_number_and_twins_a_position():
    table = read_table(csv("'Xmas',,a,a,a (3),placed", [f"{i},{i * 2},{i + 1},{9 - i},{i * i},{i % 2}"
                                                          for i in range(8)]))
    assert table.feature_names == ("Xmas", "column 2", "a", "a (4)", "a (3)")
    twins = read_table(csv("a,a,a (2),placed", [f"{i},{i * 2},{9 - i},{i % 2}" for i in range(8)]))
    assert twins.feature_names == ("a", "a (2)", "a (2) (3)")


def test_a_space_before_a_quoted_cell_is_skipped():
    table = read_table(csv("a, b, placed", [f'{i}, "{10 - i}", {i % 2}' for i in range(8)]))
    assert table.X[:, 1].tolist() == [10, 9, 8, 7, 6, 5, 4, 3]


def test_a_decimal_comma_only_between_semicolons():
    table = read_table(csv("a;b;placed", [f"{i},5;{i};{i % 2}" for i in range(8)]))
    assert table.X[:, 0].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]
    rows = [f"{i}\t{i * 3}\t{i % 2}" for i in range(8)]
    assert refused(csv("a\tb\tplaced", rows[:3] + ["1,5\t2\t1"] + rows[3:])) == (
        "Column 'a', line 5: '1,5' is not a number.")


def test_a_label_with_decimal_commas_is_two_classes():
    rows = [f"{c};{i};{(i * 7) % 3}" for i, c in enumerate(["1,0", "1", "2,0", "2"] * 3)]
    table = read_table(csv("c;a;b", rows))
    assert table.label_name == "c" and table.label_values == (1.0, 2.0)
    assert table.y.tolist() == [0, 0, 1, 1] * 3
    assert table.notes[1] == "Label 'c': 1 -> 0, 2 -> 1."


# ---- the label

def test_notes_for_two_features_and_for_more():
    table = read_table(b"a,b,placed\n" + ROWS8.encode())
    assert table.notes == ("Features: a and b; label: placed.", "Label 'placed': 0 -> 0, 1 -> 1.")
    three = read_table(csv("a,b,c,placed", [f"{i},{9 - i},{i * i},{i % 2}" for i in range(8)]))
    assert three.notes == ("Features: 3 columns (a, b, c); label: placed.", "Label 'placed': 0 -> 0, 1 -> 1.")


def test_constant_features_among_many_are_named_four_at_most():
    header = "a,k1,k2,k3,k4,k5,k6,placed"
    table = read_table(csv(header, [f"{i},1,1,1,1,1,1,{i % 2}" for i in range(8)]))
    assert table.notes == ("Features: 7 columns (a, k1, k2, k3, … (7 in all)); label: placed.",
                           "Label 'placed': 0 -> 0, 1 -> 1.",
                           "6 of the features (k1, k2, k3, k4, … (6 in all)) hold the same value in every row; "
                           "they tell no rows apart.")


def test_two_features_one_constant_is_refused():
    assert refused(csv("a,b,placed", [f"{i},3,{i % 2}" for i in range(8)])) == (
        "Column 'b' has the same value in every row; it cannot tell students apart.")


@pytest.mark.parametrize("values, y, note", [
    (["approved", "no"], [1, 0], "Label 'verdict': 'no' -> 0, 'approved' -> 1."),
    (["yes", "no"], [1, 0], "Label 'verdict': 'no' -> 0, 'yes' -> 1."),
    (["1", "0"], [1, 0], "Label 'verdict': 0 -> 0, 1 -> 1."),
    (["-1", "-2"], [1, 0], "Label 'verdict': -2 -> 0, -1 -> 1."),
    (["b", "a"], [1, 0], "Label 'verdict': 'a' -> 0, 'b' -> 1."),
])
def test_two_label_values_become_0_and_1(values, y, note):
    table = read_table(csv("a,b,verdict", [f"{i},{9 - i},{values[i % 2]}" for i in range(8)]))
    assert table.y.tolist() == y * 4
    assert table.notes[1] == note


@pytest.mark.parametrize("values, order, note", [
    (["10", "2", "9"], (2.0, 9.0, 10.0), "Label 'digit': 3 classes, 2 -> 0, 9 -> 1, 10 -> 2."),
    (["cherry", "Banana", "apple"], ("apple", "Banana", "cherry"),
     "Label 'digit': 3 classes, 'apple' -> 0, 'Banana' -> 1, 'cherry' -> 2."),
    (["c", "ab", "a_b"], ("a_b", "ab", "c"), "Label 'digit': 3 classes, 'a_b' -> 0, 'ab' -> 1, 'c' -> 2."),
])
def test_more_label_values_are_numbered_in_sorted_order(values, order, note):
    table = read_table(csv("a,b,digit", [f"{i},{11 - i},{values[i % 3]}" for i in range(9)]))
    assert table.label_values == order
    number = {v: float(order.index(float(v) if order[0] == 2.0 else v)) for v in values}
    assert table.y.tolist() == [number[values[i % 3]] for i in range(9)]
    assert table.notes[1] == note


def test_a_label_with_one_value():
    assert refused(csv("a,b,placed", [f"{i},{9 - i},yes" for i in range(8)])) == (
        "The label column 'placed' has a single value ('yes'); both classes are needed to learn anything.")
    assert refused(csv("a,b,placed", [f"{i},{9 - i}," for i in range(8)])) == (
        "The label column 'placed' has a single value (an empty cell); both classes are needed to learn "
        "anything.")


def test_a_label_with_eleven_values():
    assert refused(csv("a,b,placed", [f"{i},{20 - i},{i}" for i in range(11)])) == (
        "The label column 'placed' has 11 different values (0, 1, 2, 3, 4, ...); a label may have 2 to 10 "
        "classes. Pick a column with fewer values as the label, or group its values.")


def test_no_column_can_be_the_label():
    assert refused(csv("a,b,c", [f"{i},{20 - i},{i * 3}" for i in range(12)])) == (
        "No column has 2 to 10 different values to use as the label (for example placed = 0 or 1, or a digit "
        "0 to 9); the last column, 'c', has 12 different values (a label may have 2 to 10 classes). Add a "
        "label column, or name it.")


# ---- the features

def test_the_label_named_as_a_feature():
    assert refused(b"a,b,placed\n" + ROWS8.encode(), features=["a", "placed"]) == (
        "'placed' is the label; it cannot also be a feature.")


def test_a_column_of_half_numbers_is_a_feature_with_a_bad_cell():
    cells = ["1", "2", "3", "4", "x", "y", "z", "w"]
    assert refused(csv("a,b,c,placed", [f"{i},{9 - i},{cells[i]},{i % 2}" for i in range(8)])) == (
        "Column 'c', line 6: 'x' is not a number.")
    cells9 = ["1", "2", "3", "4", "x", "y", "z", "w", "v"]           # 4 of 9: 9 // 2 = 4
    assert refused(csv("a,b,c,placed", [f"{i},{9 - i},{cells9[i]},{i % 2}" for i in range(9)])) == (
        "Column 'c', line 6: 'x' is not a number.")


def test_a_column_of_few_numbers_is_left_out():
    cells = ["1", "2", "x", "y", "z", "w", "v", "u"]
    table = read_table(csv("a,b,c,placed", [f"{i},{9 - i},{cells[i]},{i % 2}" for i in range(8)]))
    assert table.feature_names == ("a", "b")


def test_too_few_numeric_columns():
    assert refused(csv("a,b,placed", [f"{i},w{i},{i % 2}" for i in range(8)])) == (
        "Two numeric feature columns are needed (like cgpa and iq); found only 'a' besides the label 'placed'.")
    assert refused(csv("a,b,placed", [f"v{i},w{i},{i % 2}" for i in range(8)])) == (
        "Two numeric feature columns are needed (like cgpa and iq); found none besides the label 'placed'.")


def test_too_many_numeric_columns():
    header = ",".join(f"p{j}" for j in range(65)) + ",placed"
    rows = [",".join(str(i * j) for j in range(65)) + f",{i % 2}" for i in range(8)]
    assert refused(csv(header, rows)) == (
        "The file has 65 numeric columns besides the label 'placed'; at most 64 can be features (an 8 x 8 "
        "image's pixels). Leave some columns out, or name the feature columns.")


def test_a_cell_that_is_not_finite():
    rows = ROWS8.splitlines()
    assert refused(csv("a,b,placed", rows[:2] + ["nan,1,1"] + rows[2:])) == (
        "Column 'a', line 4: 'nan' is not a finite number (NaN and infinity cannot be learned from).")
    assert np.isfinite(read_table(csv("a,b,placed", rows)).X).all()
