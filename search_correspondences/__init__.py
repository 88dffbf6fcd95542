import azure.functions as func

from shared.http import RequestContext, api, json_response
from shared.search_correspondences import next_page_url, parse_query, search


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    page = search(ctx.caller, parse_query(ctx.req.params))
    headers = {}
    if page.continuation_token is not None:
        headers["Link"] = f'<{next_page_url(ctx.req.url, ctx.req.params, page.continuation_token)}>; rel="next"'
    return json_response(page.body(), headers=headers)
