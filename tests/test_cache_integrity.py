"""The .npz reference cache (issue 13, defect 7): a truncated, empty, random, bit-flipped or edited file, or one
of the older format without a content digest, is never used nor allowed to crash the run: it is recomputed
with a RuntimeWarning naming the file and the problem, the recomputed data equal a fresh computation, and the
bad file is replaced by a good one."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest

from pinnkit.equations import operator_data as od
from pinnkit.equations.cavity import cache_path, cavity_reference, clear_reference_cache
from pinnkit.equations.reference import npz_cache
from pinnkit.equations.reference.npz_cache import DIGEST_KEY, content_digest, load_npz, save_npz
from pinnkit.operator_run import operator_data

SMALL = dict(pde="burgers", n_functions=6, m_sensors=32, nx=17, nt=5, nu=0.05, seed=11, progress=False)
HEAT = dict(pde="heat", n_functions=5, m_sensors=16, nx=9, nt=4, seed=3, progress=False)
ARRAYS = ("inputs", "sensors", "coords", "solutions")


def _fresh(kw: dict) -> od.OperatorDataset:
    return od.make_dataset(**kw, use_cache=False)


def _same(a: od.OperatorDataset, b: od.OperatorDataset) -> None:
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name


def _no_warning_load(kw: dict, cache_dir) -> od.OperatorDataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return od.make_dataset(**kw, cache_dir=cache_dir)


# ---------------------------------------------------------------- ways a file goes bad
def _truncate(path, ds) -> None:
    b = path.read_bytes()
    path.write_bytes(b[: len(b) // 2])


def _empty(path, ds) -> None:
    path.write_bytes(b"")


def _random(path, ds) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _flip_in_solutions(path, ds) -> None:
    b = bytearray(path.read_bytes())
    payload = ds.solutions.tobytes()
    start = b.find(payload)
    assert start > 0
    b[start + len(payload) // 2] ^= 0x10
    path.write_bytes(bytes(b))


def _edit_keep_digest(path, ds) -> None:
    """Solutions ×3 in an intact zip that still carries the old digest (the 229% instead of 37% of the issue)."""
    with np.load(path, allow_pickle=False) as data:
        entries = {k: np.array(data[k]) for k in data.files}
    entries["solutions"] = 3 * entries["solutions"]
    np.savez(path, **entries)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # the archive itself is fine


def _old_format(path, ds) -> None:
    """What the previous version wrote: the same entries, no digest."""
    with np.load(path, allow_pickle=False) as data:
        entries = {k: np.array(data[k]) for k in data.files if k != DIGEST_KEY}
    np.savez(path, **entries)


def _bad_digest_entry(path, ds) -> None:
    with np.load(path, allow_pickle=False) as data:
        entries = {k: np.array(data[k]) for k in data.files}
    entries[DIGEST_KEY] = np.arange(3)
    np.savez(path, **entries)


def _missing_array(path, ds) -> None:
    """Digest recomputed by whoever dropped an array: intact and consistent, but incomplete."""
    with np.load(path, allow_pickle=False) as data:
        entries = {k: np.array(data[k]) for k in data.files if k not in (DIGEST_KEY, "coords")}
    np.savez(path, **entries, **{DIGEST_KEY: np.array(content_digest(entries))})


CORRUPTIONS = {
    "truncated": (_truncate, "unreadable"),
    "empty": (_empty, "unreadable"),
    "random bytes": (_random, "unreadable"),
    "flipped byte": (_flip_in_solutions, "unreadable|digest"),
    "edited, old digest": (_edit_keep_digest, "does not match its content digest"),
    "old format": (_old_format, "has no content digest"),
    "bad digest entry": (_bad_digest_entry, "does not match its content digest"),
    "missing array": (_missing_array, "incomplete"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_bad_cache_file_is_recomputed_with_a_warning(tmp_path, name) -> None:
    corrupt, problem = CORRUPTIONS[name]
    first = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert not first.from_cache
    path = first.cache_path
    corrupt(path, first)
    with pytest.warns(RuntimeWarning, match=rf"cache file .*{path.name} .*({problem}).*; recomputing"):
        again = od.make_dataset(**SMALL, cache_dir=tmp_path)
    assert not again.from_cache
    _same(again, _fresh(SMALL))
    third = _no_warning_load(SMALL, tmp_path)  # the bad file was replaced by a good one
    assert third.from_cache
    _same(third, again)


def test_edited_solutions_are_not_used(tmp_path) -> None:
    """The issue's case: the test error depends on the cached solutions, so an edited file must not be read."""
    first = od.make_dataset(**HEAT, cache_dir=tmp_path)
    _edit_keep_digest(first.cache_path, first)
    with pytest.warns(RuntimeWarning, match="does not match its content digest"):
        again = od.make_dataset(**HEAT, cache_dir=tmp_path)
    assert np.array_equal(again.solutions, first.solutions)
    assert not np.array_equal(again.solutions, 3 * first.solutions)


def test_any_flipped_byte_never_crashes_nor_changes_the_data(tmp_path) -> None:
    first = od.make_dataset(**HEAT, cache_dir=tmp_path)
    good = first.cache_path.read_bytes()
    fresh = _fresh(HEAT)
    positions = np.unique(np.linspace(0, len(good) - 1, 60).astype(int))
    for pos in positions:
        b = bytearray(good)
        b[pos] ^= 0xFF
        first.cache_path.write_bytes(bytes(b))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ds = od.make_dataset(**HEAT, cache_dir=tmp_path)
        _same(ds, fresh)


def test_operator_run_data_recompute_a_truncated_cache(tmp_path) -> None:
    """``pinnkit deeponet`` loads its data through operator_run.operator_data: a truncated entry is recomputed."""
    kw = dict(m_sensors=16, nx=9, nt=4, cache_dir=str(tmp_path), progress=False)
    train, test = operator_data("heat", 5, 3, **kw)
    for ds in (train, test):
        _truncate(ds.cache_path, ds)
    with pytest.warns(RuntimeWarning, match="unreadable"):
        train2, test2 = operator_data("heat", 5, 3, **kw)
    _same(train2, train)
    _same(test2, test)


def test_cavity_reference_recomputes_a_bad_cache(tmp_path) -> None:
    clear_reference_cache()
    a = cavity_reference(100, "regularised", 17, cache_dir=tmp_path)
    path = cache_path(tmp_path, 100, "regularised", 17)
    for corrupt in (_truncate, _empty, _old_format):
        corrupt(path, None)
        clear_reference_cache()
        with pytest.warns(RuntimeWarning, match=f"cache file .*{path.name}"):
            b = cavity_reference(100, "regularised", 17, cache_dir=tmp_path)
        for k in ("u", "v", "p", "psi", "omega"):
            np.testing.assert_array_equal(a[k], b[k])
    clear_reference_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cavity_reference(100, "regularised", 17, cache_dir=tmp_path)  # replaced by a good file
    clear_reference_cache()


# ---------------------------------------------------------------- the digest itself
def test_digest_covers_name_dtype_shape_and_bytes() -> None:
    a = np.arange(6, dtype=np.float64)
    base = content_digest({"a": a, "config_json": np.array("{}")})
    variants = [
        {"b": a, "config_json": np.array("{}")},  # name
        {"a": a.view(np.int64), "config_json": np.array("{}")},  # dtype, same bytes
        {"a": a.reshape(2, 3), "config_json": np.array("{}")},  # shape, same bytes
        {"a": a + 1e-12, "config_json": np.array("{}")},  # bytes
        {"a": a, "config_json": np.array('{"x":1}')},  # config
        {"a": a},  # an entry less
    ]
    digests = {content_digest(v) for v in variants}
    assert len(digests) == len(variants) and base not in digests
    assert content_digest({"config_json": np.array("{}"), "a": a.copy()}) == base  # order of the mapping
    assert content_digest({"a": np.asfortranarray(a.reshape(2, 3))}) == content_digest({"a": a.reshape(2, 3)})


def test_round_trip_and_other_config(tmp_path) -> None:
    path = tmp_path / "x.npz"
    arrays = {"a": np.arange(4.0), "b": np.eye(2, dtype=np.float32)}
    save_npz(path, arrays, {"k": 1}, {"note": "hi"})
    got, info = load_npz(path, {"k": 1}, ("a", "b"), with_info=True)
    assert info == {"note": "hi"} and all(np.array_equal(got[k], arrays[k]) for k in arrays)
    assert got["b"].dtype == np.float32
    with pytest.warns(RuntimeWarning, match="holds a different config"):
        assert load_npz(path, {"k": 2}, ("a",)) is None
    assert load_npz(tmp_path / "missing.npz", {"k": 1}, ("a",)) is None  # missing: silently None
    with pytest.raises(ValueError, match="reserved"):
        save_npz(path, {DIGEST_KEY: np.zeros(1)}, {"k": 1})


def test_unreadable_message_never_suggests_pickle(tmp_path) -> None:
    path = tmp_path / "x.npz"
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path.write_bytes((tmp_path / "obj.npy").read_bytes())
    with pytest.warns(RuntimeWarning) as record:
        assert load_npz(path, {}, ("a",)) is None
    text = " ".join(str(w.message) for w in record)
    assert str(path) in text and "allow_pickle" not in text and "unsafe" not in text


def test_any_exception_from_np_load_is_caught(tmp_path, monkeypatch) -> None:
    path = tmp_path / "x.npz"
    save_npz(path, {"a": np.zeros(2)}, {})

    class Weird(Exception):
        pass

    def boom(*a, **k):
        raise Weird("zlib-ish failure")

    monkeypatch.setattr(npz_cache.np, "load", boom)
    with pytest.warns(RuntimeWarning, match=r"unreadable \(Weird: zlib-ish failure\)"):
        assert load_npz(path, {}, ("a",)) is None
