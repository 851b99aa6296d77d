"""The local SQLite store: the only code that speaks SQL."""

from oncall_tui.store.db import (
    CorruptDatabaseError,
    NewerSchemaError,
    StoreError,
)
from oncall_tui.store.open import open_store
from oncall_tui.store.store import Store

__all__ = ["CorruptDatabaseError", "NewerSchemaError", "Store", "StoreError", "open_store"]
