"""One pydantic-core call for a whole batch, for the batches that hold nothing unusual.

The exact path (`TrackService.parse`, then `parse_event` for each event) decodes the body,
checks every value against its bounds in Python, then validates the envelope, each event and
each event's props one model at a time: it can say which event is wrong and keep the others,
and it cost more than the rest of a request. A batch as the pixel sends it has only known
fields, each in range. `strict_batch` validates such a body from its bytes in one call, with
the same models made to refuse any field they do not declare (the only values whose bounds the
models do not state themselves). None means "ask the exact path", which then says what is
wrong and where; whatever this accepts, the exact path accepts with the same values
(tests/property/test_track_strict.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar, Union, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from oie.track.models import MAX_EVENTS, PROPS, BatchIn, Context, EventIn

M = TypeVar("M", bound=BaseModel)
_FORBID = ConfigDict(extra="forbid")


def _forbidding(model: type[M]) -> type[M]:
    """`model` refusing undeclared fields; a model that keeps its extras (custom) bounds them itself."""
    if model.model_config.get("extra") == "allow":
        return model
    name = f"Strict{model.__name__}"
    # type() picks pydantic's metaclass from the base: a subclass whose config differs in `extra` alone.
    namespace = {"__module__": __name__, "__qualname__": name, "model_config": _FORBID}
    return cast("type[M]", type(name, (model,), namespace))


class _StrictEvent(EventIn):
    model_config = _FORBID


def _event_model(kind: str, props: type[BaseModel]) -> type[EventIn]:
    # `props` is required here: the pixel always sends it, and a missing one is the exact path's case.
    name = "Strict" + "".join(part.title() for part in kind.split("_")) + "Event"
    kind_type: Any = Literal.__getitem__(kind)
    return create_model(name, __base__=_StrictEvent, __module__=__name__, type=(kind_type, ...), props=(props, ...))


_EVENT_MODELS = tuple(_event_model(kind, _forbidding(model)) for kind, model in PROPS.items())
_ANY_EVENT: Any = Annotated[Union.__getitem__(_EVENT_MODELS), Field(discriminator="type")]


class _StrictEnvelope(BatchIn):
    model_config = _FORBID


_StrictContext = _forbidding(Context)
StrictBatch = create_model(
    "StrictBatch",
    __base__=_StrictEnvelope,
    __module__=__name__,
    ctx=(_StrictContext, Field(default_factory=_StrictContext)),
    events=(list[_ANY_EVENT], Field(min_length=1, max_length=MAX_EVENTS)),
)


def strict_batch(body: bytes) -> BatchIn | None:
    """The batch, every event typed, when it holds only declared fields, all valid; None: ask the exact path.

    Only for a body that is `surely_clean`: the models bound every value but not its text.
    """
    try:
        return StrictBatch.model_validate_json(body)
    except ValidationError:
        return None


def typed_events(batch: BatchIn) -> list[tuple[EventIn, BaseModel]]:
    """Each event of a `strict_batch` with its typed props, as `parse_event` gives them."""
    return [(event, event.props) for event in batch.events]
