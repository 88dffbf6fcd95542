import uuid

import azure.functions as func

from shared.api.http import OCTET_STREAM, RequestContext, api, json_response
from shared.use_cases.upload_attachment import upload_attachment


# The host caps a body at 100 MB; larger files go in chunks (Content-Range), see docs/attachments.md.
@api(consumes=OCTET_STREAM, content_type_required=False, max_body=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    headers = ctx.req.headers
    result = upload_attachment(
        ctx.caller,
        uuid.UUID(ctx.req.route_params["attachmentId"]),
        ctx.req.get_body() or b"",
        content_length=headers.get("Content-Length"),
        content_range=headers.get("Content-Range"),
    )
    return json_response(result.body, status=result.status)
