"""The service's collector settings: start-up objects frozen, young objects collected in larger batches."""

import gc

from fangxun.core.runtime import FIRST_GENERATION, tune_for_service


def test_tuning_freezes_startup_objects_and_raises_the_first_threshold():
    before = gc.get_threshold()
    try:
        tune_for_service()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (FIRST_GENERATION, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
