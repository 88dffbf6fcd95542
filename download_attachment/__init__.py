import uuid

import azure.functions as func

from shared.attachments import download_attachment
from shared.http import OCTET_STREAM, RequestContext, api


# application/octet-stream (as upstream) whatever the file is, with nosniff: a sender's HTML
# file is never rendered by a browser on this API's origin.
@api(consumes=None, produces=OCTET_STREAM)
def main(ctx: RequestContext) -> func.HttpResponse:
    result = download_attachment(
        ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"]), ctx.req.headers.get("Range")
    )
    return func.HttpResponse(
        result.body,
        status_code=result.status,
        mimetype=OCTET_STREAM,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", **result.headers},
    )
