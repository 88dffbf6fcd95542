import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.health import health


@api(consumes=None, authenticate=False)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(health())
