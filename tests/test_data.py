"""Data sets: the shipped CSV, the notes' tables, toy sets, uploads and the split."""
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnviz import DataError, load_csv, load_dataset
from bnviz.data import shipped_file, stratified_split
from bnviz.toydata import NOTES_FOUR, TOY_MAKERS, make_placement, placement_csv_text

GOOD = "cgpa,iq,placed\n" + "\n".join(f"{5 + i * 0.4:.1f},{80 + 5 * i},{i % 2}" for i in range(12)) + "\n"


def test_shipped_csv_is_exactly_what_the_generator_makes():
    assert shipped_file("placement.csv").decode("utf-8") == placement_csv_text()


def test_placement_set_looks_like_students():
    d = load_dataset("placement")
    X = np.vstack([d.X_train, d.X_test])
    y = np.r_[d.y_train, d.y_test]
    assert 300 <= len(y) <= 600 and d.feature_names == ("cgpa", "iq")
    assert 4.5 <= X[:, 0].min() and X[:, 0].max() <= 10 and 60 <= X[:, 1].min() and X[:, 1].max() <= 160
    assert 0.35 < y.mean() < 0.65
    # the classes overlap: the generating rule itself gets 85-95% right
    Xg, yg, _ = make_placement()
    rule = 4.0 * (Xg[:, 0] - 7.0) + 2.5 * (Xg[:, 1] - 100.0) / 15.0 + 0.2 > 0
    assert 0.85 <= np.mean(rule == yg) <= 0.95


def test_notes_tables():
    four = load_dataset("notes4")
    np.testing.assert_array_equal(four.X_train, np.array(NOTES_FOUR)[:, :2])
    assert len(four.y_test) == 0
    students = load_dataset("notes_students")
    assert len(students.y_train) == 10 and students.X_train[:, 1].max() == 150


@pytest.mark.parametrize("name", sorted(TOY_MAKERS))
def test_toy_sets_shape_balance_and_seed(name):
    a = load_dataset(name, seed=3, size=200, noise=0.1)
    b = load_dataset(name, seed=3, size=200, noise=0.1)
    c = load_dataset(name, seed=4, size=200, noise=0.1)
    assert len(a.y_train) + len(a.y_test) == 200 and a.X_train.shape[1] == 2
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    y = np.r_[a.y_train, a.y_test]
    assert 0.4 <= y.mean() <= 0.6
    noisy = load_dataset(name, seed=3, size=200, noise=1.0)
    assert np.vstack([noisy.X_train, noisy.X_test]).std() > np.vstack([a.X_train, a.X_test]).std()


def test_unknown_built_in_is_named():
    with pytest.raises(ValueError, match="iris"):
        load_dataset("iris")


# ------------------------------------------------------------------------ split


def test_split_is_stratified_and_deterministic():
    y = np.r_[np.zeros(70), np.ones(30)]
    train, test = stratified_split(y, 0.2, seed=5)
    assert len(test) == 20 and y[test].sum() == 6
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == 100
    again = stratified_split(y, 0.2, seed=5)
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, stratified_split(y, 0.2, seed=6)[1])


def test_standardization_uses_training_rows_only():
    d = load_dataset("placement")
    np.testing.assert_allclose(d.feature_mean, d.X_train.mean(axis=0))
    np.testing.assert_allclose(d.feature_std, d.X_train.std(axis=0))
    z = d.standardize(d.X_train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0)
    assert abs(d.standardize(d.X_test).mean()) > 1e-6  # test rows are not their own reference


def test_split_seed_and_fraction_reach_load_dataset():
    a, b = load_dataset("placement", seed=1), load_dataset("placement", seed=2)
    assert not np.array_equal(a.test_rows, b.test_rows)
    assert len(load_dataset("placement", test_fraction=0.5).y_test) == 200


# ------------------------------------------------------------------------ uploads


def test_good_csv_from_path_bytes_and_files(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(GOOD)
    for source in (path, str(path), GOOD.encode(), io.BytesIO(GOOD.encode()), io.StringIO(GOOD)):
        d = load_csv(source, seed=0)
        assert d.feature_names == ("cgpa", "iq") and d.label_name == "placed"
        assert len(d.y_train) + len(d.y_test) == 12


def test_messy_but_readable_csv():
    text = ('\ufeff"Name" ; "CGPA" ; "IQ" ; "Placed"\r\n'
            + "".join(f" student {i} ; {f'{5 + i * 0.3:.1f}'.replace('.', ',')} ; {90 + i} ; "
                      f"{'yes' if i % 3 else 'no'}\r\n" for i in range(10))
            + "\r\n")
    d = load_csv(text.encode("utf-8"))
    assert d.feature_names == ("CGPA", "IQ") and d.label_name == "Placed"
    assert d.label_values == ("no", "yes")
    X = np.vstack([d.X_train, d.X_test])
    assert X[:, 0].min() == pytest.approx(5.0) and X[:, 1].max() == 99
    assert any("'no' -> 0" in note for note in d.notes)


def test_named_columns_and_any_two_label_values():
    text = "a,b,c,group\n" + "".join(f"{i},{i * i},{10 - i},{'A' if i < 5 else 'B'}\n" for i in range(10))
    d = load_csv(text.encode(), features=("c", "a"), label="group")
    assert d.feature_names == ("c", "a") and d.label_values == ("A", "B")


def test_tab_separated():
    d = load_csv(GOOD.replace(",", "\t").encode())
    assert d.feature_names == ("cgpa", "iq")


def check_error(source, *words, **kw):
    with pytest.raises(DataError) as err:
        load_csv(source, **kw)
    message = str(err.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def test_empty_file():
    check_error(b"", "empty")
    check_error(b"  \n\n ", "empty")


def test_header_only():
    check_error(b"cgpa,iq,placed\n", "header", "no data rows")


def test_fewer_than_two_numeric_columns():
    text = "name,iq,placed\n" + "".join(f"s{i},{90 + i},{i % 2}\n" for i in range(10))
    check_error(text.encode(), "two numeric", "iq")


def test_text_in_a_feature_names_column_and_line():
    text = GOOD.replace("8.2,120", "8.2,high")
    check_error(text.encode(), "'iq'", "line 10", "high", "not a number")


def test_nan_or_inf_in_a_feature():
    check_error(GOOD.replace("8.2,120", "8.2,nan").encode(), "'iq'", "line 10", "finite")
    check_error(GOOD.replace("8.2,120", "inf,120").encode(), "'cgpa'", "line 10", "finite")


def test_empty_cell_in_a_feature():
    check_error(GOOD.replace("8.2,120", "8.2,").encode(), "'iq'", "line 10", "empty cell")


def _many(features: int, classes: int, rows: int = 40, label: str = "kind") -> bytes:
    """A CSV of `features` numeric columns f1.. and a label cycling through `classes` words."""
    rng = np.random.default_rng(features * 100 + classes)
    words = [f"c{k:02d}" for k in range(classes)]
    head = ",".join([f"f{j + 1}" for j in range(features)] + [label])
    lines = [",".join(f"{v:.3f}" for v in rng.normal(size=features)) + f",{words[i % classes]}" for i in range(rows)]
    return (head + "\n" + "\n".join(lines) + "\n").encode()


def test_label_with_three_values_is_three_classes():
    text = GOOD.replace("8.2,120,0", "8.2,120,2")
    d = load_csv(text.encode())
    assert d.label_values == (0.0, 1.0, 2.0) and d.n_classes == 3
    y = np.r_[d.y_train, d.y_test]
    assert sorted(np.unique(y)) == [0.0, 1.0, 2.0] and np.sum(y == 2) == 1
    assert any("3 classes, 0 -> 0, 1 -> 1, 2 -> 2" in note for note in d.notes)


def test_up_to_ten_classes_and_sixty_four_features():
    d = load_csv(_many(64, 10))
    assert d.n_features == 64 and d.feature_names == tuple(f"f{j + 1}" for j in range(64))
    assert d.n_classes == 10 and d.label_values == tuple(f"c{k:02d}" for k in range(10))
    y = np.r_[d.y_train, d.y_test]
    np.testing.assert_array_equal(np.bincount(y.astype(int)), [4] * 10)
    # the rows keep their order in the source: row i (at its place in the split) is class i % 10
    np.testing.assert_array_equal(d.y_test, d.test_rows % 10)
    assert any("64 columns (f1, f2, f3, f4, … (64 in all))" in note for note in d.notes)
    assert any("10 classes, 'c00' -> 0" in note and "'c09' -> 9" in note for note in d.notes)


def test_eleven_classes_are_refused():
    check_error(_many(3, 11), "no column", "'kind'", "11 different values", "2 to 10 classes")
    message = check_error(_many(3, 11), "'kind'", "11 different values", "2 to 10 classes", label="kind")
    assert "'c00', 'c01', 'c02', 'c03', 'c04', ..." in message
    check_error(_many(3, 11, label="class"), "'class'", "11 different values", "2 to 10 classes")
    assert load_csv(_many(3, 10, label="class")).n_classes == 10


def test_sixty_five_features_are_refused():
    check_error(_many(65, 2), "65 numeric columns", "at most 64", "'kind'")
    names = tuple(f"f{j + 1}" for j in range(65))
    check_error(_many(65, 2), "2 to 64 feature columns", "got 65", features=names)
    assert load_csv(_many(65, 2), features=names[:64]).n_features == 64


def test_naming_features_picks_any_number_from_two_to_sixty_four():
    d = load_csv(_many(5, 3), features=("f4", "f2", "f5"), label="kind")
    assert d.feature_names == ("f4", "f2", "f5") and d.n_classes == 3
    check_error(_many(5, 3), "2 to 64", "got 1", features=("f1",))
    check_error(_many(5, 3), "'f2' twice", features=("f1", "f2", "f2"))


def test_two_valued_labels_are_still_preferred():
    """With a two-valued column, that is the label (as before), though a later one has 3 values."""
    text = "a,b,flag,level\n" + "".join(f"{i},{i * i % 7},{i % 2},{i % 3}\n" for i in range(12))
    d = load_csv(text.encode())
    assert d.label_name == "flag" and d.n_classes == 2 and d.feature_names == ("a", "b", "level")


def test_the_digits_as_an_upload():
    """The shipped digits written as a CSV read back as the same 64 features and 10 classes."""
    from bnviz.data import digits_table

    pixels, digits = digits_table()
    text = ",".join([f"p{i}" for i in range(64)] + ["digit"]) + "\n" + "".join(
        ",".join(str(int(v)) for v in row) + f",{int(t)}\n" for row, t in zip(pixels, digits))
    d = load_csv(text.encode(), name="digits upload")
    ref = load_dataset("digits")
    assert d.label_name == "digit" and d.n_classes == 10 and d.label_values == tuple(float(k) for k in range(10))
    np.testing.assert_array_equal(d.X_train, ref.X_train)
    np.testing.assert_array_equal(d.y_test, ref.y_test)
    blank = [f"p{i}" for i in range(64) if np.ptp(pixels[:, i]) == 0]
    assert blank == ["p0", "p32", "p39"]      # pixels blank in every image are kept, and said
    assert any(note.startswith("3 of the features (p0, p32, p39) hold the same value") for note in d.notes)


def test_constant_features_among_many_are_kept_but_not_all():
    text = "a,b,c,placed\n" + "".join(f"7,{80 + i},{i * i},{i % 2}\n" for i in range(10))
    d = load_csv(text.encode())
    assert d.n_features == 3 and any("1 of the features (a)" in note for note in d.notes)
    text = "a,b,c,placed\n" + "".join(f"7,1,2,{i % 2}\n" for i in range(10))
    check_error(text.encode(), "'a'", "same value")


def test_label_with_a_single_class():
    text = "cgpa,iq,placed\n" + "".join(f"{5 + i * 0.4:.1f},{80 + 5 * i},1\n" for i in range(10))
    check_error(text.encode(), "'placed'", "single value")


def test_fewer_than_eight_rows():
    text = "\n".join(GOOD.splitlines()[:6]) + "\n"
    check_error(text.encode(), "5 data rows", "at least 8")


def test_ragged_rows():
    text = GOOD.replace("8.2,120,0", "8.2,120,0,7")
    check_error(text.encode(), "line 10", "4 cells", "3 columns")


def test_too_many_rows():
    text = "cgpa,iq,placed\n" + "7,100,1\n" * 100_001
    check_error(text.encode(), "100,001 rows", "limit")


def test_too_large(tmp_path):
    big = b"cgpa,iq,placed\n" + b"7.000000000,100.0000000,1\n" * 220_000
    check_error(big, "5 MB")
    path = tmp_path / "big.csv"
    path.write_bytes(big)
    check_error(path, "5 MB")


def test_binary_garbage():
    check_error(bytes(range(256)) * 20, "binary")
    check_error(b"PK\x03\x04" + b"\x14\x00" * 100, "binary", "spreadsheet")
    check_error(np.random.default_rng(0).integers(1, 256, 3000, dtype=np.uint8).tobytes(), "csv")


def test_single_column():
    check_error(b"cgpa\n7\n8\n", "single column")


def test_named_columns_that_do_not_exist():
    check_error(GOOD.encode(), "'gpa'", "cgpa, iq, placed", features=("gpa", "iq"))
    check_error(GOOD.encode(), "'outcome'", label="outcome")
    check_error(GOOD.encode(), "label", features=("cgpa", "placed"))


def test_constant_feature():
    text = "cgpa,iq,placed\n" + "".join(f"7,{80 + i},{i % 2}\n" for i in range(10))
    check_error(text.encode(), "'cgpa'", "same value")


def test_missing_file():
    check_error(Path("/nonexistent/file.csv"), "no file")


def test_wrong_kind_of_source():
    check_error(12345, "path, bytes or an open file")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_data_error(blob):
    try:
        load_csv(blob)
    except DataError:
        pass


csv_cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers(-5, 200).map(str),
                     st.sampled_from(["", "yes", "no", "NaN", " 7,5 ", '"', "x;y", "1e999", "-"]),
                     st.text(max_size=6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(csv_cell, min_size=1, max_size=5), min_size=0, max_size=15),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["\n", "\r\n"]))
def test_random_csv_like_text_raises_only_data_error(rows, sep, newline):
    text = newline.join(sep.join(r) for r in rows)
    try:
        d = load_csv(text.encode("utf-8", errors="surrogatepass"))
    except DataError:
        return
    assert np.all(np.isfinite(d.X_train)) and set(np.unique(d.y_train)) <= {0.0, 1.0}


# ------------------------------------------------------------------ handwritten digits

# scikit-learn's load_digits(): images per digit 0..9, and its first image (a 0), row by row
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
FIRST_DIGIT = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8,
               0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]


def test_the_shipped_digits_are_the_uci_images():
    from bnviz.data import digits_table

    pixels, digits = digits_table()
    assert pixels.shape == (1797, 64) and digits.shape == (1797,)
    np.testing.assert_array_equal(np.bincount(digits.astype(int)), DIGIT_COUNTS)
    np.testing.assert_array_equal(pixels[0], FIRST_DIGIT)
    assert digits[0] == 0
    assert pixels.min() == 0 and pixels.max() == 16 and np.array_equal(pixels, np.round(pixels))
    assert not pixels.flags.writeable           # shared by every split: nobody may change it


def test_load_dataset_digits():
    d = load_dataset("digits")
    assert d.n_features == 64 and d.n_classes == 10 and d.label_values == tuple(range(10))
    assert d.feature_names[0] == "p0" and d.feature_names[63] == "p63" and d.label_name == "digit"
    y = np.r_[d.y_train, d.y_test]
    assert set(np.unique(y)) == set(range(10)) and len(y) == 1797
    X = np.vstack([d.X_train, d.X_test])
    assert X.min() == 0 and X.max() == 16                     # pixel counts as the source gives them
    # stratified: each digit sends round(0.2 n) of its n images to the test rows
    np.testing.assert_array_equal(np.bincount(d.y_test.astype(int), minlength=10),
                                  [round(0.2 * n) for n in DIGIT_COUNTS])
    assert len(d.y_train) == 1797 - sum(round(0.2 * n) for n in DIGIT_COUNTS)
    # the rows are the shipped ones: train and test rows come from the table at test_rows and the rest
    from bnviz.data import digits_table

    pixels, digits = digits_table()
    np.testing.assert_array_equal(d.X_test, pixels[d.test_rows])
    np.testing.assert_array_equal(d.y_test, digits[d.test_rows])
    train_rows = np.setdiff1d(np.arange(1797), d.test_rows)
    np.testing.assert_array_equal(d.X_train, pixels[train_rows])
    # the split follows the seed and the test share
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.test_rows, d.test_rows)
    np.testing.assert_array_equal(load_dataset("digits").test_rows, d.test_rows)
    assert len(load_dataset("digits", test_fraction=0.5).y_test) == sum(round(0.5 * n) for n in DIGIT_COUNTS)
    assert "classes=10" in repr(d) and "64 (p0..)" in repr(d)


def test_digits_config_and_load_for():
    from bnviz import Config, load_for

    cfg = Config(dataset="digits", seed=3, test_fraction=0.25)
    d = load_for(cfg)
    assert d.name == "digits" and d.n_features == 64
    np.testing.assert_array_equal(d.test_rows, load_dataset("digits", seed=3, test_fraction=0.25).test_rows)
    assert Config.from_query({"dataset": "digits"}) == (Config(dataset="digits"), [])


def test_the_k_class_split_keeps_the_binary_split():
    """Classes are split in order 0, 1, 2, ... from one generator: 0/1 labels split exactly as before."""
    rng = np.random.default_rng(5)
    y = (rng.random(101) > 0.6).astype(float)
    generator = __import__("bnviz.seeding", fromlist=["rng_for"]).rng_for(4, "split")
    expected = []
    for cls in (0, 1):
        rows = np.flatnonzero(y == cls)
        expected.append(generator.permutation(rows)[:min(int(round(len(rows) * 0.3)), len(rows) - 1)])
    train, test = stratified_split(y, 0.3, 4)
    np.testing.assert_array_equal(test, np.sort(np.concatenate(expected)))
    y3 = np.r_[y, [2.0] * 10]
    train, test = stratified_split(y3, 0.3, 4)
    assert np.sum(y3[test] == 2) == 3 and np.sum(y3[train] == 2) == 7


def test_data_readme_credits_the_digits():
    text = (Path(__file__).resolve().parent.parent / "data" / "README.md").read_text()
    assert "digits.csv.gz" in text and "CC BY 4.0" in text and "archive.ics.uci.edu" in text
    assert "make_digits.py" in text
