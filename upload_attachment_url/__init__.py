import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.upload_attachment_url import upload_attachment_url


# No body: the file goes to the returned URL, straight to storage (docs/attachments.md).
@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    attachment_id = uuid.UUID(ctx.req.route_params["attachmentId"])
    return json_response(upload_attachment_url(ctx.caller, attachment_id, ctx.req.params))
