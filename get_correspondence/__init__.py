import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.get_correspondence import get_correspondence


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(get_correspondence(ctx.caller, uuid.UUID(ctx.req.route_params["correspondenceId"])))
