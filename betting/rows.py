"""A model instance from one row of plain SQL, without `QuerySet.raw()`.

The bet path reads three rows in SQL of its own (the match row's lock, the market row with
its liability, the wallet's lock with the safer-gambling flags). `raw()` would map them, but it
works out the columns, their order and their converters anew for every query, which cost a
bet about as much CPU as the statement. Here the column list of a model is built once per
process, the converters once per database, and `Model.from_db` makes the instance as a
queryset would: the same field values (JSON decoded, SQLite's decimals and datetimes
converted), `_state.adding` False and `_state.db` set. Columns after the model's own (the
statement's extra `... AS name`) become attributes with their values as read, as `raw()` sets
them.
"""

from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def model_columns(model: type[Model], alias: str = "") -> str:
    """The model's concrete columns, quoted, in field order, `alias.`-prefixed if given: the
    select list (or RETURNING list) that `row_model` reads."""
    prefix = f"{alias}." if alias else ""
    # Every backend the project runs (PostgreSQL, SQLite) quotes names with double quotes.
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


# Per database alias: every thread's connection to one alias has the same backend and
# settings, and a converter is given the connection it converts for. Keyed by the alias, not
# the connection object, so a thread's connection is not kept alive after the thread.
_converters: dict[tuple[str, type[Model]], list[tuple[int, list[Any], Any]]] = {}


def _converters_of(connection: BaseDatabaseWrapper, model: type[Model]) -> list[tuple[int, list[Any], Any]]:
    key = (connection.alias, model)
    found = _converters.get(key)
    if found is None:
        found = []
        for position, field in enumerate(model._meta.concrete_fields):
            col = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if functions:
                found.append((position, functions, col))
        _converters[key] = found
    return found


def row_model(model: type[M], sql: str, params: list[Any], *, using: str) -> M | None:
    """The first row of `sql` as a `model` instance (None: no row). `sql` selects (or
    returns) `model_columns(model)` first, then any extra named columns."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        names = [column[0] for column in cursor.description]
    values = list(row)
    for position, functions, col in _converters_of(connection, model):
        value = values[position]
        for function in functions:
            value = function(value, col, connection)
        values[position] = value
    count = len(_attnames(model))
    instance = model.from_db(using, _attnames(model), values[:count])
    for name, value in zip(names[count:], values[count:], strict=True):
        setattr(instance, name, value)
    return instance


@cache
def _insert_plan(model: type[Model]) -> tuple[tuple[Any, ...], str]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = tuple(field for field in meta.concrete_fields if field is not pk)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return fields, f'INSERT INTO {meta.db_table} ({columns}) VALUES ({marks}) RETURNING "{pk.column}"'


def row_insert(instance: M, *, using: str) -> M:
    """`instance` inserted as `Model.objects.create` would, in one plain INSERT ... RETURNING
    its id: each field's value as the ORM prepares it (`pre_save`, so `auto_now_add` and
    defaults apply; `get_db_prep_save`), then `pk` set and `_state` that of a saved instance.

    Without save(): no `pre_save`/`post_save` signal and no `save()` override runs, so only
    for models with neither (the bet, the ledger entry, the idempotency record: none has a
    receiver, and the ledger entry's override only refuses updates). A constraint's refusal
    raises `IntegrityError` as create() would."""
    fields, sql = _insert_plan(type(instance))
    connection = connections[using]
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = using
    return instance


@cache
def _update_plan(model: type[Model], names: tuple[str, ...]) -> tuple[tuple[Any, ...], str]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = tuple(field for field in meta.concrete_fields if field.name in names)
    assert len(fields) == len(names), f"not concrete fields of {model.__name__}: {names}"
    assignments = ", ".join(f'"{field.column}" = %s' for field in fields)
    return fields, f'UPDATE {meta.db_table} SET {assignments} WHERE "{pk.column}" = %s'


def rows_update(instances: list[M], names: tuple[str, ...], *, using: str) -> None:
    """Write the fields `names` of every instance (all of one model), one UPDATE a row sent
    together (`executemany`), as `bulk_update` would write them: each value prepared by its
    field (`get_db_prep_save`: JSON encoded, decimals and datetimes adapted).

    `bulk_update` builds one `CASE WHEN id = ... THEN ...` expression per field and row, and
    for a recompute's fifteen market rows of six JSON fields that building was about half of
    the worker's CPU a recompute. Without save(): no signal runs, as with `bulk_update`."""
    if not instances:
        return
    fields, sql = _update_plan(type(instances[0]), names)
    connection = connections[using]
    params = [
        [*(field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields), instance.pk]
        for instance in instances
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
