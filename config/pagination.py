"""Page-number pagination that refuses what the OpenAPI schema calls invalid.

DRF reads `?page=` (empty) as the first page and ignores a `page_size` that is not a number; the
schema types both as integers, so here they are refused: a bad `page` is the 404 of a page that
does not exist (as DRF already answers `?page=abc`), a bad `page_size` a 400.
"""

import re
from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

POSITIVE_INTEGER = re.compile(r"[0-9]+")


class PageNumberPagination(pagination.PageNumberPagination):
    last_page_strings = ()  # `?page=last` is not an integer

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        page = request.query_params.get(self.page_query_param)
        if page is not None and not POSITIVE_INTEGER.fullmatch(page):
            raise NotFound(self.invalid_page_message.format(page_number=page, message="Not an integer."))
        if self.page_size_query_param:
            size = request.query_params.get(self.page_size_query_param)
            if size is not None and not (POSITIVE_INTEGER.fullmatch(size) and int(size) > 0):
                raise ValidationError({self.page_size_query_param: ["A positive integer."]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters
