import uuid

import azure.functions as func

from shared.http import RequestContext, api, json_response
from shared.purge_correspondence import purge


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    correspondence_id = uuid.UUID(ctx.req.route_params["correspondenceId"])
    return json_response(str(purge(ctx.caller, correspondence_id)))
