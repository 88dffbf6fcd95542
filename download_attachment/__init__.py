import uuid

import azure.functions as func

from shared.api.http import OCTET_STREAM, SECURITY_HEADERS, RequestContext, api
from shared.use_cases.download_attachment import download_attachment


# application/octet-stream (as upstream) whatever the file is, with nosniff: a sender's HTML
# file is never rendered by a browser on this API's origin.
@api(consumes=None, produces=OCTET_STREAM)
def main(ctx: RequestContext) -> func.HttpResponse:
    result = download_attachment(
        ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"]), ctx.req.headers.get("Range")
    )
    return func.HttpResponse(
        result.body, status_code=result.status, mimetype=OCTET_STREAM, headers={**SECURITY_HEADERS, **result.headers}
    )
