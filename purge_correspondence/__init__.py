import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.purge_correspondence import purge_correspondence


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(str(purge_correspondence(ctx.caller, uuid.UUID(ctx.req.route_params["correspondenceId"]))))
