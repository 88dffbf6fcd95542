import azure.functions as func

from shared.http import MULTIPART, RequestContext, api, json_response
from shared.multipart_initialize import initialize_multipart


# The host caps a request at 100 MB (413 before this runs); see docs/multipart.md.
@api(consumes=MULTIPART, max_body=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    req = ctx.req
    return json_response(initialize_multipart(ctx.caller, req.get_body() or b"", req.headers.get("Content-Type", "")))
