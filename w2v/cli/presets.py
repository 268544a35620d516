"""--config: a TOML file or a shipped preset whose keys become a command's defaults."""

import os

import click

PRESETS = ("sgns", "cbow", "glove", "svd", "svd-levy")  # w2v/configs/NAME.toml


def read_config(ctx, param, path):
    """Eager --config callback: TOML keys become defaults for this command's options.

    PATH is a file, else the name of a preset shipped in the package. Each value must have
    the type its option declares (no bool for an int, no 1.7 for an int), checked here
    once for every option, since click would coerce or fail with a traceback.
    """
    if path is None:
        return None
    import tomllib

    path = _config_path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise click.BadParameter(f"{path}: invalid TOML: {e}") from None
    except UnicodeDecodeError:
        raise click.BadParameter(f"{path}: not a TOML file (not UTF-8 text)") from None
    params = {}  # a key is an option's long name (evaluate's sts for --sts) or its Python name
    for param in ctx.command.params:
        if param.name and param.name != "config":
            for name in [param.name] + [opt[2:] for opt in param.opts if opt.startswith("--")]:
                params.setdefault(name.replace("-", "_"), param)
    defaults = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in params:
            raise click.BadParameter(f"{path}: unknown key {key!r} for 'w2v {ctx.command.name}'")
        _check_config_value(ctx, params[name], path, key, value)
        if params[name].name in defaults:
            raise click.BadParameter(f"{path}: {key!r} sets an option set already")
        defaults[params[name].name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _config_path(path):
    """`path` if it is a file, else the preset it names ('sgns' or 'sgns.toml')."""
    if os.path.exists(path):
        return path
    from importlib import resources

    name = path[:-len(".toml")] if path.endswith(".toml") else path
    if name in PRESETS:
        preset = resources.files("w2v") / "configs" / f"{name}.toml"
        if preset.is_file():
            return str(preset)
    raise click.BadParameter(f"no file {path}, and no preset of that name "
                             f"(presets: {', '.join(PRESETS)})")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numbers(value):
    """One number, or a non-empty array of numbers (or their 200,100 string)."""
    return _is_number(value) or isinstance(value, str) or \
        (isinstance(value, list) and bool(value) and all(_is_number(v) for v in value))


# click type, or a custom type's name -> (what a TOML value must be, its name, the plural)
_CONFIG_TYPES = [
    (click.types.BoolParamType, "boolean", lambda v: isinstance(v, bool), "true or false",
     "booleans"),
    (click.types.IntParamType, "integer", _is_int, "an integer", "integers"),
    (click.types.FloatParamType, "float", _is_number, "a number", "numbers"),
    (type(None), "thresholds", _is_numbers, "a number or an array of numbers", "arrays"),
]


def _check_config_value(ctx, param, path, key, value):
    """Raise BadParameter unless `value` has the TOML type of `param`'s click type.

    Then the type's own check runs too (ranges, choices), so the message names the file.
    """
    fits, expected, plural = next(
        ((fits, one, many) for kind, name, fits, one, many in _CONFIG_TYPES
         if isinstance(param.type, kind) or param.type.name == name),
        (lambda v: isinstance(v, str), "a string", "strings"))
    if param.multiple or param.nargs != 1:
        items = value if isinstance(value, list) else None
        expected = f"a list of {plural}"
    else:
        items = [value]
    problem = f"expected {expected}"
    if items is not None and all(fits(item) for item in items):
        try:
            for item in items:
                param.type.convert(item, param, ctx)
            return
        except click.BadParameter as e:
            problem = e.message
    raise click.BadParameter(f"{path}: {key} = {_toml(value)}: {problem}")


def _toml(value):
    """A value as TOML writes it, for error messages."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)
