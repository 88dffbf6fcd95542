import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.models.search_query import parse_search_query
from shared.use_cases.search_correspondences import (
    next_page_url,
    search_correspondences,
)


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    result = search_correspondences(ctx.caller, parse_search_query(ctx.req.params))
    headers = {}
    if result.continuation_token is not None:
        headers["Link"] = f'<{next_page_url(ctx.req.url, ctx.req.params, result.continuation_token)}>; rel="next"'
    return json_response(result, headers=headers)
