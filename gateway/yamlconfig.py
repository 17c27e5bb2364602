"""Load YAML into pydantic models and point at the offending line on error."""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gateway.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _node_at(node: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror}); check GATEWAY_CONFIG") from exc
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def validate_at(model: type[M], data: Any, *, path: Path, root: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> M:
    """Validate `data` (found at `prefix` in the YAML file) and name file:line of every error."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = prefix + tuple(err["loc"])
            line = _node_at(root, loc).start_mark.line + 1 if root is not None else "?"
            dotted = ".".join(str(p) for p in loc) or "(top)"
            lines.append(f"{path}:{line}: {dotted}: {err['msg']}")
        raise ConfigError("the configuration is not valid:\n" + "\n".join(lines)) from exc


def line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | str:
    return _node_at(root, loc).start_mark.line + 1 if root is not None else "?"
