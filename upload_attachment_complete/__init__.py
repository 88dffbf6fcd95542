import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.upload_attachment_complete import upload_attachment_complete


# No body: the file is already in storage, uploaded to the URL from .../upload/url.
@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(upload_attachment_complete(ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"])))
