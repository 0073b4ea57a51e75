"""The API's page: 50 rows unless the client asks for ``?page_size=N``, never more than 200.

The cap keeps one request bounded (every list takes a fixed number of queries, but rows still
cost time to serialize); a client that wants everything follows ``next``."""

from rest_framework.pagination import PageNumberPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class ErpPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
