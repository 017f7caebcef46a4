"""Building API shapes (pydantic models) from domain objects."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Shape = TypeVar("Shape", bound=BaseModel)


def shape_of(model: type[Shape], source: object, **computed: Any) -> Shape:
    """``model`` from ``computed`` and, for every other field, the attribute of ``source`` of that name."""
    values = {name: getattr(source, name) for name in model.model_fields if name not in computed}
    return model.model_validate({**values, **computed})
