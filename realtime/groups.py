"""Fast-path groups: which channel-layer groups the hub writes straight to its sockets.

A group is declared where it is defined (the module that names it), with three rules:

- `frame(message)`: the text a member socket receives for a `group_send` message, encoded
  once by the sending process, whatever the number of sockets;
- `key(message)`: the conflation key. Messages with the same key supersede each other (a
  congested socket or a late batch keeps only the newest); None means every one must arrive;
- `version(message)`: orders messages of the same key, so a late, older one never replaces
  a newer one.

Every process that sends or receives must know the same declarations: the layer imports
the modules listed in its `ROUTES` option (`CHANNEL_LAYERS["default"]["CONFIG"]`) when it is
built. A group that matches no declaration is an ordinary Channels group: its messages go
to the members' channels and their handlers, as with channels_redis' pub/sub layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

Message = Mapping[str, Any]


def encode_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def data_frame(message: Message) -> str:
    """The message's `data`, as JSON: what the seeds' handlers send (`json.dumps(event["data"])`)."""
    return encode_json(message["data"])


def no_key(message: Message) -> Hashable | None:
    return None


def no_version(message: Message) -> int:
    return 0


@dataclass(frozen=True)
class FastGroup:
    pattern: re.Pattern[str]
    frame: Callable[[Message], str] = data_frame
    key: Callable[[Message], Hashable | None] = no_key
    version: Callable[[Message], int] = no_version

    def matches(self, group: str) -> bool:
        return self.pattern.fullmatch(group) is not None


_declared: list[FastGroup] = []
_resolved: dict[str, FastGroup | None] = {}
RESOLVED_CACHE_MAX = 100_000  # group names seen; bounded, since names may come from clients


def fast_group(
    pattern: str,
    *,
    frame: Callable[[Message], str] = data_frame,
    key: Callable[[Message], Hashable | None] = no_key,
    version: Callable[[Message], int] = no_version,
) -> FastGroup:
    """Declare the groups whose full name matches `pattern` (a regular expression) fast-path."""
    declared = FastGroup(re.compile(pattern), frame=frame, key=key, version=version)
    _declared.append(declared)
    _resolved.clear()
    return declared


def route_of(group: str) -> FastGroup | None:
    """The declaration covering `group` (the first declared wins), or None for an ordinary group."""
    try:
        return _resolved[group]
    except KeyError:
        pass
    found = next((declared for declared in _declared if declared.matches(group)), None)
    if len(_resolved) >= RESOLVED_CACHE_MAX:
        _resolved.clear()
    _resolved[group] = found
    return found
