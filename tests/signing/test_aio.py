"""``signing._aio.run`` from short-lived threads leaves no unclosed event loop behind."""

from __future__ import annotations

import gc
import threading
import warnings

from signing import _aio


async def _answer() -> int:
    return 42


def test_a_finished_threads_loop_is_closed_without_a_warning() -> None:
    results: list[int] = []
    gc.collect()  # what earlier tests left behind is not this test's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            thread = threading.Thread(target=lambda: results.append(_aio.run(_answer())))
            thread.start()
            thread.join()
        gc.collect()
    assert results == [42] * 5
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [
        str(w.message) for w in caught
    ]
